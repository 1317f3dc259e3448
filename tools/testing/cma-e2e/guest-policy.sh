#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the driver-binding policy cases (rspdm.mode=policy).  The
# kernel command line names the case and its scenario, and may set the
# policy (pci_cma.policy=...):
#   rspdm.case=NAME
#   rspdm.scenario=enforce-provision | enforce-bad-signature | warn |
#                  off | override | pcie-san | enforce-reset | enforce-resume
# (see each scenario below).  A netlink listener (busybox uevent) records
# every uevent from the start; verdict and binding changes must show up
# there with their SPDM_* variables, not only in the kernel log.  The NVMe
# function has a namespace: /dev/nvme0n1 exists exactly when its driver is
# bound.  Prints exactly one line "RSPDM-RESULT: PASS|FAIL NAME [reason]".

case_name=unnamed scenario=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	rspdm.case=*) case_name=${arg#rspdm.case=} ;;
	rspdm.scenario=*) scenario=${arg#rspdm.scenario=} ;;
	esac
done

. /rspdm/guest-lib.sh

# Every uevent, one line each: ACTION DEVPATH and the SPDM_* variables.
: >/tmp/uevents
uevent sh -c 'echo "$ACTION $DEVPATH SPDM_EVENT=$SPDM_EVENT SPDM_AUTHENTICATED=$SPDM_AUTHENTICATED SPDM_REASON=$SPDM_REASON SPDM_POLICY=$SPDM_POLICY SPDM_BIND=$SPDM_BIND" >>/tmp/uevents' &
usleep 300000

dev=$(find_dev)
[ -n "$dev" ] || fail "no emulated NVMe function (1b36:0010) found"
bdf=$(basename "$dev")
[ -e "$dev/doe_features/0001:01" ] || fail "no CMA DOE feature on $bdf"
nvme_drv=/sys/bus/pci/drivers/nvme
[ -d $nvme_drv ] || fail "no NVMe driver in the kernel"
params=/sys/module/pci_cma/parameters

# uevent_mark: later waits look at the uevents from here on only.
uevent_mark() { seen=$(wc -l </tmp/uevents); }
uevent_mark
# wait_uevent WHEN VARS: a "change" uevent of the device whose variables
# read VARS (a substring: "SPDM_EVENT=... SPDM_AUTHENTICATED=..."), since
# the mark, within 5 s; then marks.
wait_uevent() {
	i=0
	while [ $i -lt 50 ]; do
		if tail -n +$((seen + 1)) /tmp/uevents | grep "^change .*/$bdf " | grep -q "$2"; then
			uevent_mark
			return
		fi
		usleep 100000
		i=$((i + 1))
	done
	fail "$1: no uevent with '$2': $(tail -n +$((seen + 1)) /tmp/uevents | grep "/$bdf " | tr '\n' '|')"
}
# no_uevent WHEN: no "change" uevent of the device since the mark (1 s).
no_uevent() {
	sleep 1
	got=$(tail -n +$((seen + 1)) /tmp/uevents | grep "^change .*/$bdf ")
	[ -z "$got" ] || fail "$1: unexpected uevent: $got"
}

# bound WHEN / unbound WHEN: the NVMe driver is (not) bound, and its
# namespace is there (gone), within 10 s.
bound() {
	i=0
	while { [ ! -e "$dev/driver" ] || [ ! -b /dev/nvme0n1 ]; } && [ $i -lt 100 ]; do
		usleep 100000
		i=$((i + 1))
	done
	[ -e "$dev/driver" ] || fail "$1: no driver bound"
	[ "$(basename "$(readlink "$dev/driver")")" = nvme ] || fail "$1: bound to $(readlink "$dev/driver")"
	[ -b /dev/nvme0n1 ] || fail "$1: driver bound, but no /dev/nvme0n1"
}
unbound() {
	i=0
	while [ -e "$dev/driver" ] && [ $i -lt 100 ]; do
		usleep 100000
		i=$((i + 1))
	done
	[ ! -e "$dev/driver" ] || fail "$1: driver $(basename "$(readlink "$dev/driver")") bound"
	[ ! -e /dev/nvme0n1 ] || fail "$1: /dev/nvme0n1 exists"
}

# attr WHEN FILE WANT: sysfs FILE of the device reads WANT.
attr() {
	got=$(cat "$dev/$2") || fail "$1: cannot read $2"
	[ "$got" = "$3" ] || fail "$1: $2 reads '$got', want '$3'"
}
# dev_uevent WHEN VARS...: the device's uevent file holds every VAR.
dev_uevent() {
	when=$1
	shift
	for v in "$@"; do
		grep -qx "$v" "$dev/uevent" || fail "$when: $v not in uevent: $(grep SPDM_ "$dev/uevent" | tr '\n' ' ')"
	done
}
# logged WHEN TEXT [LEVEL]: the kernel logged TEXT (at LEVEL, 4 = warning).
logged() {
	if [ -n "${3:-}" ]; then
		dmesg -r | grep -q "^<$3>.*$2" || fail "$1: no '$2' at level $3: $(dmesg -r | grep "$bdf: CMA: " | tail -3 | tr '\n' '|')"
	else
		dmesg | grep -q "$2" || fail "$1: no '$2' in the log"
	fi
}

# refused_binds WHEN: a manual bind and a driver_override of the device
# both leave it without a driver.
refused_binds() {
	if echo "$bdf" >$nvme_drv/bind 2>/dev/null; then
		fail "$1: manual bind succeeded"
	fi
	unbound "$1, after a manual bind"
	logged "$1" "$bdf: CMA: driver nvme may not bind: not authenticated"
	echo nvme >"$dev/driver_override" || fail "$1: cannot set driver_override"
	echo "$bdf" >/sys/bus/pci/drivers_probe 2>/dev/null
	unbound "$1, with driver_override"
	if echo "$bdf" >$nvme_drv/bind 2>/dev/null; then
		fail "$1: manual bind with driver_override succeeded"
	fi
	unbound "$1, bind with driver_override"
	echo >"$dev/driver_override"
}

# reauth WHEN: write "re" (must succeed: a verdict).
reauth() { echo re >"$dev/authenticated" || fail "$1: writing re failed"; }

# provision VARIANT: its root into .cma.
provision() {
	keyctl padd asymmetric "" %:.cma </rspdm/certs/$1/root.der >/dev/null ||
		fail "keyctl padd $1 failed"
}

# The first verdict is there (the device's first CMA line).
wait_first() {
	wait_cma_lines 1
	[ "$(cma_lines | grep -c "$bdf: CMA: ")" -ge 1 ] || fail "no CMA line for $bdf"
}

case "$scenario" in
enforce-provision)
	# pci_cma.policy=enforce, a chain not trusted yet: no driver, whatever
	# way it is asked to bind, until the root is provisioned and the
	# device authenticated again; then the driver binds by itself.
	wait_first
	logged boot "$bdf: CMA: not authenticated: certificate chain not trusted" 4
	logged boot "$bdf: CMA: no driver may bind (untrusted, policy enforce)"
	attr boot authenticated 0
	attr boot cma_policy default
	[ "$(cat $params/policy)" = enforce ] || fail "pci_cma.policy reads $(cat $params/policy)"
	dev_uevent boot SPDM_AUTHENTICATED=0 SPDM_REASON=untrusted SPDM_POLICY=enforce SPDM_BIND=denied
	unbound boot
	refused_binds boot
	# The same verdict again: no uevent.
	uevent_mark
	reauth "re, still untrusted"
	no_uevent "re, still untrusted"
	unbound "re, still untrusted"
	provision ecp256
	reauth "re after keyctl padd"
	attr "re after keyctl padd" authenticated 1
	# Bound when the write returns; the namespace follows.
	[ -e "$dev/driver" ] || fail "re after keyctl padd: no driver when the write returned"
	bound "re after keyctl padd"
	wait_uevent "re after keyctl padd" "SPDM_EVENT=requested SPDM_AUTHENTICATED=1 SPDM_REASON=authenticated SPDM_POLICY=enforce SPDM_BIND=allowed"
	dev_uevent "re after keyctl padd" SPDM_AUTHENTICATED=1 SPDM_BIND=allowed
	;;
enforce-bad-signature)
	# pci_cma.policy=enforce, a trusted chain, a bad signature: unbound.
	wait_first
	unbound boot
	provision ecp256
	uevent_mark
	reauth "re, bad signature"
	attr "re, bad signature" authenticated 0
	logged "re, bad signature" "$bdf: CMA: not authenticated: signature verification failed" 4
	wait_uevent "re, bad signature" "SPDM_EVENT=requested SPDM_AUTHENTICATED=0 SPDM_REASON=signature SPDM_POLICY=enforce SPDM_BIND=denied"
	unbound "re, bad signature"
	refused_binds "bad signature"
	;;
warn)
	# The default policy (warn): the driver binds, the failure is logged
	# at warning level.  Then the global policy at run time: it applies
	# to later binds and unbinds nothing.
	wait_first
	attr boot authenticated 0
	[ "$(cat $params/policy)" = warn ] || fail "pci_cma.policy reads $(cat $params/policy), want the built-in warn"
	logged boot "$bdf: CMA: not authenticated: certificate chain not trusted" 4
	bound boot
	dev_uevent boot SPDM_AUTHENTICATED=0 SPDM_REASON=untrusted SPDM_POLICY=warn SPDM_BIND=allowed
	! dmesg | grep -q "$bdf: CMA: no driver may bind" || fail "warn: a 'no driver may bind' line"
	echo bogus >$params/policy 2>/dev/null && fail "pci_cma.policy took 'bogus'"
	echo default >$params/policy 2>/dev/null && fail "pci_cma.policy took 'default'"
	echo enforce >$params/policy || fail "cannot set pci_cma.policy"
	wait_uevent "policy enforce" "SPDM_EVENT=policy SPDM_AUTHENTICATED=0 SPDM_REASON=untrusted SPDM_POLICY=enforce SPDM_BIND=denied"
	bound "policy enforce: the bound driver stays"
	logged "policy enforce" "CMA: policy changed: driver nvme stays bound"
	echo "$bdf" >$nvme_drv/unbind || fail "cannot unbind nvme"
	unbound "manual unbind"
	refused_binds "policy enforce"
	echo warn >$params/policy || fail "cannot set pci_cma.policy back"
	wait_uevent "policy warn" "SPDM_EVENT=policy SPDM_AUTHENTICATED=0 SPDM_REASON=untrusted SPDM_POLICY=warn SPDM_BIND=allowed"
	bound "policy warn again: the driver binds by itself"
	;;
off)
	# pci_cma.policy=off: no SPDM at all (the host checks the responder
	# saw no request), the driver binds, the device reads not
	# authenticated, "re" is refused, a reset authenticates nothing.
	bound boot
	sleep 2
	[ -z "$(cma_lines | grep "$bdf: CMA: ")" ] || fail "off: CMA lines: $(cma_lines | tr '\n' '|')"
	attr boot authenticated 0
	dev_uevent boot SPDM_AUTHENTICATED=0 SPDM_REASON=disabled SPDM_POLICY=off SPDM_BIND=allowed
	if echo re >"$dev/authenticated" 2>/dev/null; then
		fail "off: writing re succeeded"
	fi
	echo flr >"$dev/reset_method" || fail "cannot select FLR"
	echo 1 >"$dev/reset" || fail "reset failed"
	bound "after a reset"
	attr "after a reset" authenticated 0
	[ -z "$(cma_lines | grep "$bdf: CMA: ")" ] || fail "off: CMA lines after reset: $(cma_lines | tr '\n' '|')"
	;;
override)
	# The device's own policy beats the global one, both ways.  Boot
	# with pci_cma.policy=off (driver bound, no SPDM yet).
	bound boot
	attr boot authenticated 0
	# 1. Own enforce beats global off: a policy change unbinds nothing;
	#    an authentication that fails then does.
	echo bogus >"$dev/cma_policy" 2>/dev/null && fail "cma_policy took 'bogus'"
	echo enforce >"$dev/cma_policy" || fail "cannot write cma_policy"
	attr "own enforce" cma_policy enforce
	wait_uevent "own enforce" "SPDM_EVENT=policy SPDM_AUTHENTICATED=0 SPDM_REASON=disabled SPDM_POLICY=enforce SPDM_BIND=denied"
	bound "own enforce: the bound driver stays"
	reauth "own enforce, re"
	logged "own enforce, re" "$bdf: CMA: not authenticated: certificate chain not trusted" 4
	logged "own enforce, re" "CMA: unbinding driver nvme: not authenticated (untrusted), policy enforce" 4
	unbound "own enforce, failed re"
	wait_uevent "own enforce, re" "SPDM_EVENT=requested SPDM_AUTHENTICATED=0 SPDM_REASON=untrusted SPDM_POLICY=enforce SPDM_BIND=denied"
	refused_binds "own enforce"
	# 2. Own warn beats global enforce: the driver binds at once.
	echo enforce >$params/policy || fail "cannot set pci_cma.policy"
	echo warn >"$dev/cma_policy" || fail "cannot write cma_policy warn"
	[ -e "$dev/driver" ] || fail "own warn: no driver when the write returned"
	bound "own warn under global enforce"
	wait_uevent "own warn" "SPDM_EVENT=policy SPDM_AUTHENTICATED=0 SPDM_REASON=untrusted SPDM_POLICY=warn SPDM_BIND=allowed"
	# 3. Back to the global enforce: the bound driver stays.
	echo default >"$dev/cma_policy" || fail "cannot write cma_policy default"
	wait_uevent "own default" "SPDM_EVENT=policy SPDM_AUTHENTICATED=0 SPDM_REASON=untrusted SPDM_POLICY=enforce SPDM_BIND=denied"
	bound "own default: the bound driver stays"
	;;
pcie-san)
	# A chain whose leaf has no PCIe name: refused unless the PCIe name
	# is optional, per device or globally; required again, refused.
	wait_first
	provision noleafsan
	attr boot cma_pcie_san default
	[ "$(cat $params/pcie_san)" = required ] || fail "pci_cma.pcie_san reads $(cat $params/pcie_san)"
	reauth "re, name required"
	logged "re, name required" "$bdf: CMA: not authenticated: certificate chain not trusted: WrongDevice" 4
	attr "re, name required" authenticated 0
	dev_uevent "re, name required" SPDM_REASON=identity
	echo bogus >"$dev/cma_pcie_san" 2>/dev/null && fail "cma_pcie_san took 'bogus'"
	echo optional >"$dev/cma_pcie_san" || fail "cannot write cma_pcie_san"
	uevent_mark
	reauth "re, name optional"
	attr "re, name optional" authenticated 1
	wait_uevent "re, name optional" "SPDM_EVENT=requested SPDM_AUTHENTICATED=1 SPDM_REASON=authenticated"
	echo required >"$dev/cma_pcie_san" || fail "cannot write cma_pcie_san required"
	reauth "re, name required again"
	attr "re, name required again" authenticated 0
	wait_uevent "re, name required again" "SPDM_EVENT=requested SPDM_AUTHENTICATED=0 SPDM_REASON=identity"
	echo default >"$dev/cma_pcie_san" || fail "cannot write cma_pcie_san default"
	echo optional >$params/pcie_san || fail "cannot set pci_cma.pcie_san"
	reauth "re, name optional globally"
	attr "re, name optional globally" authenticated 1
	wait_uevent "re, name optional globally" "SPDM_EVENT=requested SPDM_AUTHENTICATED=1 SPDM_REASON=authenticated"
	bound "name optional (warn)"
	# Its own "off" then: nothing to decide anew (no uevent), and a
	# refused "re" changes nothing.
	echo off >"$dev/cma_policy" || fail "cannot write cma_policy off"
	no_uevent "own off"
	if echo re >"$dev/authenticated" 2>/dev/null; then
		fail "own off: writing re succeeded"
	fi
	attr "own off, refused re" authenticated 1
	dev_uevent "own off, refused re" SPDM_AUTHENTICATED=1 SPDM_REASON=authenticated SPDM_POLICY=off SPDM_BIND=allowed
	no_uevent "own off, refused re"
	;;
enforce-reset)
	# pci_cma.policy=enforce, a device that authenticates at boot and is
	# another, untrusted one after a function reset: its driver is
	# unbound after the reset returns, from process context.
	wait_first
	attr boot authenticated 1
	bound boot
	dev_uevent boot SPDM_AUTHENTICATED=1 SPDM_REASON=authenticated SPDM_POLICY=enforce SPDM_BIND=allowed
	echo flr >"$dev/reset_method" || fail "cannot select FLR"
	echo 1 >"$dev/reset" || fail "reset failed"
	logged reset "$bdf: CMA: device changed"
	logged reset "$bdf: CMA: not authenticated: certificate chain not trusted: UntrustedRoot (device offers SPDM [0-9. ]*), on reset" 4
	unbound "after the reset"
	logged reset "CMA: unbinding driver nvme: not authenticated (untrusted), policy enforce" 4
	wait_uevent reset "SPDM_EVENT=reset SPDM_AUTHENTICATED=0 SPDM_REASON=untrusted SPDM_POLICY=enforce SPDM_BIND=denied"
	attr "after the reset" authenticated 0
	refused_binds "after the reset"
	;;
enforce-resume)
	# pci_cma.policy=enforce, a device swapped across a suspend to RAM
	# (pm_test=core: every device callback runs): its driver is unbound
	# after the resume, from process context, not inside it.
	wait_first
	attr boot authenticated 1
	bound boot
	echo deep >/sys/power/mem_sleep || fail "no deep sleep"
	echo core >/sys/power/pm_test || fail "cannot set pm_test"
	echo mem >/sys/power/state || fail "suspend failed"
	echo none >/sys/power/pm_test
	logged resume "$bdf: CMA: device changed"
	logged resume "$bdf: CMA: not authenticated: certificate chain not trusted: UntrustedRoot (device offers SPDM [0-9. ]*), on resume" 4
	unbound "after the resume"
	logged resume "CMA: unbinding driver nvme: not authenticated (untrusted), policy enforce" 4
	wait_uevent resume "SPDM_EVENT=resumed SPDM_AUTHENTICATED=0 SPDM_REASON=untrusted SPDM_POLICY=enforce SPDM_BIND=denied"
	refused_binds "after the resume"
	;;
*) fail "unknown rspdm.scenario=$scenario" ;;
esac

check_kernel_clean

echo "RSPDM-RESULT: PASS $case_name"
