#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make demo`: the whole story, from inside the guest.
cma() { dmesg | grep -E " [a-z0-9_-]+ [0-9a-f:.]+: CMA: " | sed 's/^\[ *[0-9.]*\] /    /'; }
cma_devs() {
	for d in /sys/bus/pci/devices/*; do
		[ -e "$d/authenticated" ] && echo "$d"
	done
}
state() {
	for d in $(cma_devs); do
		drv=none
		[ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
		echo "    $(basename "$d")/authenticated = $(cat "$d/authenticated"), driver: $drv"
	done
	ns=$(ls /dev/nvme*n1 2>/dev/null | tr '\n' ' ')
	echo "    NVMe namespaces: ${ns:-none}"
}
# A netlink listener for the kernel's uevents, as udev would see them.
: >/tmp/uevents
uevent sh -c '[ -n "$SPDM_EVENT" ] && echo "    $ACTION $(basename $DEVPATH): SPDM_EVENT=$SPDM_EVENT SPDM_AUTHENTICATED=$SPDM_AUTHENTICATED SPDM_REASON=$SPDM_REASON SPDM_POLICY=$SPDM_POLICY SPDM_BIND=$SPDM_BIND" >>/tmp/uevents' &
# Verdicts come from a work item per device: wait for one per device.
i=0
while [ "$(cma | grep -cE "CMA: (not )?authenticated")" -lt "$(cma_devs | wc -l)" ] && [ $i -lt 300 ]; do
	usleep 100000
	i=$((i + 1))
done
echo
echo "================ rspdm demo (inside the guest, kernel $(uname -r)) ================"
echo "1. PCIe functions with a DOE mailbox:"
for d in /sys/bus/pci/devices/*; do
	[ -d "$d/doe_features" ] || continue
	echo "    $(basename "$d"): vendor $(cat "$d/vendor") device $(cat "$d/device") class $(cat "$d/class"), DOE features $(ls "$d/doe_features" | grep -v discovery | tr '\n' ' ')"
done
echo "2. At boot the kernel authenticated them over SPDM, before any driver could"
echo "   bind; the .cma keyring holds no root for them yet, so neither is trusted,"
echo "   and the policy is $(cat /sys/module/pci_cma/parameters/policy) (pci_cma.policy=): no driver for them:"
cma
state
echo "3. The certificate chains they sent are in sysfs anyway:"
for d in $(cma_devs); do
	f=$d/certificates/slot0
	len=$(wc -c <"$f")
	hdr=$(od -An -N4 -tu2 "$f" | awk '{print $1}')
	echo "    $(basename "$d")/certificates/slot0: $len bytes (SPDM chain header says $hdr), starts $(od -An -N12 -tx1 "$f" | tr -s ' ')"
done
echo "4. Provision the vendor's root certificate:"
echo '    # keyctl padd asymmetric "" %:.cma < /rspdm/certs/ecp384/root.der'
echo "    key $(keyctl padd asymmetric "" %:.cma </rspdm/certs/ecp384/root.der)"
echo "5. Ask the kernel to authenticate them again:"
before=$(cma | wc -l)
for d in $(cma_devs); do
	echo "    # echo re > $d/authenticated"
	echo re >"$d/authenticated"
done
cma | tail -n +$((before + 1))
i=0
while [ -z "$(ls /dev/nvme*n1 2>/dev/null)" ] && [ $i -lt 50 ]; do
	usleep 100000
	i=$((i + 1))
done
state
echo "   The genuine device is authenticated now and its driver bound by itself;"
echo "   the tampered one (its responder signs garbage) is not, it has no driver,"
echo "   and the kernel says why.  User space saw each change as a uevent:"
cat /tmp/uevents
for d in $(cma_devs); do
	[ "$(cat "$d/authenticated")" = 1 ] && genuine=$d
done
echo "6. A secure channel: with pci_cma.sessions=1 the kernel keeps an SPDM session"
echo "   (KEY_EXCHANGE, FINISH, then encrypted messages over DOE) with each"
echo "   authenticated device that offers one, from its next authentication on:"
echo "    # echo 1 > /sys/module/pci_cma/parameters/sessions; echo re > $genuine/authenticated"
before=$(cma | wc -l)
echo 1 >/sys/module/pci_cma/parameters/sessions
echo re >"$genuine/authenticated"
cma | tail -n +$((before + 1))
for f in established id version secured_version dhe_group aead handshake; do
	echo "    session/$f = $(cat "$genuine/session/$f")"
done
echo "    # echo 1 > $genuine/session/key_update"
before=$(cma | wc -l)
echo 1 >"$genuine/session/key_update"
cma | tail -n +$((before + 1))
echo "7. Evidence a remote verifier can check without trusting this kernel: the"
echo "   verifier sends a nonce, the kernel uses it for the next signed exchanges,"
echo "   and logs what the device signed (signatures/) and its measurements, which"
echo "   now come through the session:"
head -c 32 /dev/urandom >/tmp/nonce
echo "    # head -c 32 /dev/urandom > nonce; cat nonce > $genuine/signatures/next_requester_nonce"
echo "    # echo re > $genuine/authenticated"
echo "    # cat nonce > $genuine/signatures/next_requester_nonce; echo 1 > $genuine/measurements/refresh"
cat /tmp/nonce >"$genuine/signatures/next_requester_nonce"
echo re >"$genuine/authenticated"
cat /tmp/nonce >"$genuine/signatures/next_requester_nonce"
echo 1 >"$genuine/measurements/refresh"
for n in $(ls "$genuine/signatures" | sed -n 's/^\([0-9]*\)_type$/\1/p' | sort -n); do
	echo "    signatures/$n: $(cat "$genuine/signatures/${n}_type"), $(cat "$genuine/signatures/${n}_hash_algorithm"), transcript $(wc -c <"$genuine/signatures/${n}_transcript") bytes, requester nonce $(od -An -N8 -tx1 "$genuine/signatures/${n}_requester_nonce" | tr -d ' ')..."
done
echo "    the verifier's nonce: $(od -An -N8 -tx1 /tmp/nonce | tr -d ' ')..."
echo "    measurements/blocks:"
sed 's/^/      /' "$genuine/measurements/blocks" | cut -c1-100
echo "==================================================================================="
echo "RSPDM-NONCE: $(od -An -v -tx1 /tmp/nonce | tr -d ' \n')"
case_name=demo
. /rspdm/guest-lib.sh
print_evidence "$genuine"
