#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make demo`: the whole story, from inside the guest.
cma() { dmesg | grep -E " pci [0-9a-f:.]+: CMA: " | sed 's/^\[ *[0-9.]*\] /    /'; }
echo
echo "================ rspdm demo (inside the guest, kernel $(uname -r)) ================"
echo "1. PCIe functions with a DOE mailbox:"
for d in /sys/bus/pci/devices/*; do
	[ -d "$d/doe_features" ] || continue
	echo "    $(basename "$d"): vendor $(cat "$d/vendor") device $(cat "$d/device") class $(cat "$d/class"), DOE features $(ls "$d/doe_features" | grep -v discovery | tr '\n' ' ')"
done
echo "2. At boot the kernel authenticated them over SPDM; the .cma keyring is empty:"
cma
echo "3. Provision the vendor's root certificate:"
echo '    # keyctl padd asymmetric "" %:.cma < /rspdm/certs/ecp384/root.der'
echo "    key $(keyctl padd asymmetric "" %:.cma </rspdm/certs/ecp384/root.der)"
echo "4. Re-enumerate the devices (remove, rescan); the kernel authenticates again:"
before=$(cma | wc -l)
for d in /sys/bus/pci/devices/*; do
	[ -d "$d/doe_features" ] && echo 1 >"$d/remove"
done
echo 1 >/sys/bus/pci/rescan
cma | tail -n +$((before + 1))
echo "   The genuine device is authenticated now; the tampered one (its responder"
echo "   signs garbage) is not, and the kernel says why."
echo "==================================================================================="
