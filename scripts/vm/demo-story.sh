#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The demo's story, run as root inside the bpfsig kernel (scripts/demo.sh
# boots it): real signed light skeletons (scripts/build/build-skels.sh output in
# $1), the kernel's metadata check, and the example IPE policy. Prints each
# step with its outcome and why; exits non-zero if any step did not behave
# as expected.
set -u
skel=$1
cert=$skel/signing.crt.der
ipe=/sys/kernel/security/ipe
steps=0 good=0
tmp=$(mktemp -d)

say() { printf '%s\n' "$*"; }
# outcome OK|UNEXPECTED TEXT [WHY]
outcome() {
	steps=$((steps + 1))
	if [ "$1" = OK ]; then good=$((good + 1)); printf '    \033[32mok\033[0m   %s\n' "$2"
	else printf '    \033[1;31mUNEXPECTED\033[0m %s\n' "$2"; fi
	[ -z "${3:-}" ] || printf '         %s\n' "$3"
}
# The runner's line starting with "ok - $1" (the check passed), if any.
passed() { grep -q "^ok - $1" "$tmp/out"; }
verdict_name() { case $1 in 0) echo UNSIGNED ;; 1) echo VERIFIED ;; 2) echo METADATA_VERIFIED ;; *) echo "?$1" ;; esac; }
# Sign an IPE policy with the test key (a builtin trusted key of this
# kernel) and make it the active one.
activate() { # file name
	openssl smime -sign -in "$1" -signer "$skel/signing.crt.pem" -inkey "$skel/signing.key.pem" \
		-noattr -nodetach -nosmimecap -binary -outform der -out "$tmp/p7" 2>"$tmp/err" &&
		cat "$tmp/p7" >"$ipe/new_policy" 2>>"$tmp/err" &&
		echo 1 >"$ipe/policies/$2/active" 2>>"$tmp/err"
}
new_kmsg() { dmesg | tail -n +"$(( $(cat "$tmp/kmsg_mark") + 1 ))"; }
mark_kmsg() { dmesg | wc -l >"$tmp/kmsg_mark"; }
# Run the unsigned program; expect exit status $1 and an IPE audit record
# of its load with enforcing=$2.
unsigned_load() { # rc enforcing text
	local out rc rec
	mark_kmsg
	out=$("$skel/bin/unsigned_load" 2>&1)
	rc=$?
	rec=$(new_kmsg | grep -o "ipe_op=BPF_PROG_LOAD .*enforcing=$2 .*bpf_signature=UNSIGNED.*" | head -1)
	if ((rc == $1)) && [ -n "$rec" ]; then
		outcome OK "$3: $out" "audit: $rec"
	else
		outcome UNEXPECTED "unsigned program (exit $rc, expected $1): $out" "${rec:-no IPE audit record in the kernel log}"
	fi
}

# With no audit daemon, the kernel prints audit records to its log, but only
# as printk_ratelimit() allows (10 per 5 s), and success_audit below makes
# many: lift the limit so that the records shown are the ones looked for.
echo 0 >/proc/sys/kernel/printk_ratelimit

say "bpfsig: signed BPF light skeletons, proved by the kernel, gated by IPE"
say "kernel $(uname -r); skeletons from selftests/skel/progs, built by the series' clang + bpftool"
say ""

say "[1] counter.bpf.c, made into a signed light skeleton by 'bpftool gen skeleton -L -S', loads"
"$skel/bin/counter" "$cert" builtin >"$tmp/out" 2>&1
rc=$?
v0=$(sed -n 's/.*verdict after BPF_PROG_LOAD: \([0-9]*\).*/\1/p' "$tmp/out")
v1=$(sed -n 's/.*verdict after it ran: \([0-9]*\).*/\1/p' "$tmp/out")
if ((rc == 0)) && [ "$v0" = 1 ] && [ "$v1" = 2 ]; then
	outcome OK "loader verdict (fdinfo sig_verdict): $(verdict_name "$v0") after BPF_PROG_LOAD -> $(verdict_name "$v1") after it ran" \
		"why: its first instructions called bpf_loader_verify_metadata(), which found its metadata map exclusive, frozen and hashing to the signed value"
else
	outcome UNEXPECTED "loader verdict ${v0:-?} -> ${v1:-?}, runner exit $rc" "$(grep '^not ok' "$tmp/out" | head -3)"
fi
if passed "count_getppid: inner program loaded from the kernel" && passed "counter: counted 5 getppid"; then
	outcome OK "its tracing program was loaded by the loader (fdinfo kernel_load 1), attached, and counted 5 getppid() calls"
else
	outcome UNEXPECTED "the inner program did not work" "$(grep '^not ok' "$tmp/out" | head -3)"
fi
say ""

say "[2] the same kind of skeleton (maps.bpf.c) with one byte of its data blob flipped"
mark_kmsg
"$skel/bin/maps-tampered-data" "$cert" builtin >"$tmp/out" 2>&1
rc=$?
why=$(new_kmsg | grep -o 'bpfsig: prog [0-9]*: loader metadata not verified: .*' | head -1)
if ((rc == 0)) && passed "maps: load refused with -22" && [ -n "$why" ]; then
	outcome OK "refused with -EINVAL before it created anything (no map, program or fd left)" "kernel log: $why"
else
	outcome UNEXPECTED "tampered skeleton: runner exit $rc" "${why:-no bpfsig line in the kernel log}"
fi
say ""

say "[3] the example IPE policy (selftests/ipe/example.policy) made active, enforcing:"
grep -v '^#' "$skel/example.policy" | sed 's/^/        | /'
if activate "$skel/example.policy" bpfsig_example; then
	outcome OK "policy signed with a builtin trusted key, loaded through securityfs and activated"
else
	outcome UNEXPECTED "activating the policy failed" "$(head -2 "$tmp/err")"
fi
echo 1 >"$ipe/enforce"
unsigned_load 13 1 "an unsigned program is denied"
echo 1 >"$ipe/success_audit"
mark_kmsg
"$skel/bin/counter" "$cert" builtin >"$tmp/out" 2>&1
rc=$?
echo 0 >"$ipe/success_audit"
rec=$(new_kmsg | grep -o 'ipe_op=BPF_PROG_LOAD_POST_INTEGRITY .*' | head -1)
if ((rc == 0)) && [ -n "$rec" ]; then
	outcome OK "the signed skeleton still loads and counts, its inner program included" \
		"audit (success_audit on): $rec"
else
	outcome UNEXPECTED "the signed skeleton failed under the policy" "$(grep '^not ok' "$tmp/out" | head -3)"
fi
say ""

say "[4] the same policy, not enforcing (echo 0 > $ipe/enforce)"
echo 0 >"$ipe/enforce"
unsigned_load 0 0 "the unsigned program loads; the decision is still audited"
echo 1 >"$ipe/enforce"
say ""

rm -rf "$tmp"
if ((good == steps)); then
	say "demo: all $steps outcomes as expected"
	exit 0
fi
say "demo: $((steps - good)) of $steps outcomes NOT as expected"
exit 1
