# SPDX-License-Identifier: GPL-2.0
#
# rspdm: PCIe CMA/SPDM device authentication for Linux, in Rust.
# Every target is idempotent and can be used on its own.  Build products
# live in $(RSPDM_CACHE) (default ~/.cache/rspdm), never in the repository.

SHELL := /bin/bash
SCRIPTS := $(CURDIR)/scripts

.PHONY: all deps kernel test-host kunit kunit-spdm e2e check demo initramfs responder certs bench bench-kernel bench-boot fuzz clean-cache help

all: kernel

help:
	@echo "make deps       install the toolchain and test tools (as root / sudo)"
	@echo "make kernel     prepare the kernel tree (overlay + patches) and build it"
	@echo "make test-host  cargo test, clippy, rustfmt for lib/spdm and the responder"
	@echo "make kunit      KUnit in QEMU (TCG; QEMU_ACCEL=kvm to use KVM)"
	@echo "make kunit-spdm the SPDM library's KUnit suites in a kernel without PCI_CMA"
	@echo "make e2e        boot the kernel against the responder emulator"
	@echo "make check      kernel + test-host + kunit + e2e, one summary line"
	@echo "make demo       deps + kernel + boot and show what the kernel negotiated"
	@echo "make bench      benchmarks (host core, then in-kernel in QEMU), writes BENCHMARKS.md"
	@echo "make bench-kernel  in-kernel authentication time and heap per device (QEMU)"
	@echo "make bench-boot    boot to all verdicts with 1, 4 and 16 CMA devices (QEMU)"
	@echo "make fuzz       cargo-fuzz every parser and the requester (FUZZ_SECONDS each)"

deps:
	@$(SCRIPTS)/deps.sh

kernel:
	@$(SCRIPTS)/kernel.sh

test-host:
	@$(SCRIPTS)/test-host.sh

kunit: kernel
	@$(SCRIPTS)/kunit.sh

# The SPDM library's KUnit suites in a kernel without PCI_CMA.
kunit-spdm:
	@$(SCRIPTS)/kunit-spdm.sh

e2e: kernel
	@$(SCRIPTS)/e2e.sh

check: deps kernel
	@$(SCRIPTS)/check.sh

demo: deps kernel
	@$(SCRIPTS)/demo.sh

initramfs:
	@$(SCRIPTS)/initramfs.sh

responder:
	cargo build --release -p spdm-responder

certs:
	@bash $(SCRIPTS)/gen-test-certs.sh

bench: kernel
	@$(SCRIPTS)/bench.sh

bench-kernel: kernel
	@$(SCRIPTS)/bench-kernel.sh

bench-boot: kernel
	@$(SCRIPTS)/bench-boot.sh

FUZZ_SECONDS ?= 600
fuzz:
	@$(SCRIPTS)/fuzz.sh $(FUZZ_SECONDS)

clean-cache:
	rm -rf $${RSPDM_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/rspdm}/{build,src,stage,out}
