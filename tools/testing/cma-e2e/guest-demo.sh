#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make demo`: show what the kernel learned about the device.
echo
echo "================ rspdm demo (inside the guest) ================"
echo "Kernel: $(uname -r)"
for d in /sys/bus/pci/devices/*; do
	[ -d "$d/doe_features" ] || continue
	echo "PCI function $(basename "$d"): vendor $(cat "$d/vendor") device $(cat "$d/device") class $(cat "$d/class")"
	echo "  DOE features (vendor:type): $(ls "$d/doe_features" | tr '\n' ' ')"
done
echo "What the kernel negotiated (dmesg):"
dmesg | grep "CMA: " | sed 's/^/  /'
echo "==============================================================="
