#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The SPDM library's KUnit suites in a kernel built without the PCIe CMA
# component (config/spdm.kunitconfig), in its own build directory: shows
# that lib/spdm builds and passes on its own, as any kernel user gets it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export RSPDM_BUILD=$CACHE/build-spdm
export RSPDM_KUNITCONFIG=$REPO/config/spdm.kunitconfig
export KUNIT_LOG=$OUT/kunit-spdm.log
"$REPO/scripts/kernel.sh"
# The CMA component must not be in this kernel.
if grep -q '^CONFIG_PCI_CMA=y' "$RSPDM_BUILD/.config"; then
	die "config/spdm.kunitconfig built a kernel with CONFIG_PCI_CMA"
fi
"$REPO/scripts/kunit.sh"
