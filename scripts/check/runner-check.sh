#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The runner's own checks can fail: each is given a crafted input it must
# refuse (a missing or empty kernel log, a warning, a hung task, an RCU
# stall; a KUnit suite that lost a case, skipped one or did not run) and one
# it must accept. Seconds; the test command's first stage.
. "$(dirname "$0")/../lib.sh"

d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
n=0
# must_fail WHAT CMD...: the check refuses its input.
must_fail() {
	local what=$1
	shift
	if ("$@") >"$d/out" 2>&1; then
		die "runner check: $what was accepted ($*)"
	fi
	n=$((n + 1))
}
must_pass() {
	local what=$1
	shift
	("$@") >"$d/out" 2>&1 || { cat "$d/out" >&2; die "runner check: $what was refused"; }
	n=$((n + 1))
}

# check_vm_klog: the content after the marker decides.
klog() { # NAME LINES...: a VM log whose kernel log is LINES
	local f=$d/$1.log
	shift
	{ echo "selftests: 1 passed, 0 failed, 0 skipped"; echo "$KLOG_MARKER"; printf '%s\n' "$@"; } >"$f"
	echo "$f"
}
must_fail "an empty kernel log" check_vm_klog "$(klog empty)" test
must_fail "a log without kernel lines" check_vm_klog "$(klog failed 'dmesg: read kernel buffer failed')" test
must_fail "a WARNING" check_vm_klog "$(klog warn '[    1.0] Linux version' '[    2.0] WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c:1 x')" test
must_fail "a hung task" check_vm_klog "$(klog hung '[    1.0] Linux version' '[   20.0] INFO: task a:1 blocked for more than 10 seconds.')" test
must_fail "an RCU stall" check_vm_klog "$(klog rcu '[    1.0] Linux version' '[   30.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:')" test
must_fail "a KASAN report" check_vm_klog "$(klog kasan '[    1.0] Linux version' '[    3.0] BUG: KASAN: slab-out-of-bounds in x')" test
must_pass "a clean kernel log" check_vm_klog "$(klog clean '[    1.0] Linux version' '[    2.0] random: crng init done')" test

# ktap_summary.py: pinned suites.
ktap() { # NAME CASES(ok|skip|fail ...): one suite bpfsig_core with these cases
	local f=$d/$1.ktap i=0 c
	shift
	{
		echo "KTAP version 1"
		echo "1..1"
		echo "    # Subtest: bpfsig_core"
		echo "    1..$#"
		for c in "$@"; do
			i=$((i + 1))
			case $c in
			ok) echo "    ok $i case_$i" ;;
			skip) echo "    ok $i case_$i # SKIP why" ;;
			fail) echo "    not ok $i case_$i" ;;
			esac
		done
		[[ " $* " == *" fail "* ]] && echo "not ok 1 bpfsig_core" || echo "ok 1 bpfsig_core"
	} >"$f"
	echo "$f"
}
must_pass "a suite with its pinned cases" python3 "$BPFSIG_ROOT/scripts/vm/ktap_summary.py" "$(ktap good ok ok ok)" --require bpfsig_core=3
must_fail "a suite that lost a case" python3 "$BPFSIG_ROOT/scripts/vm/ktap_summary.py" "$(ktap lost ok ok)" --require bpfsig_core=3
must_fail "a suite that skipped a case" python3 "$BPFSIG_ROOT/scripts/vm/ktap_summary.py" "$(ktap skipped ok skip ok)" --require bpfsig_core=3
must_fail "a failed case" python3 "$BPFSIG_ROOT/scripts/vm/ktap_summary.py" "$(ktap failed ok fail ok)" --require bpfsig_core=3
must_fail "a required suite that did not run" python3 "$BPFSIG_ROOT/scripts/vm/ktap_summary.py" "$(ktap other ok ok ok)" --require bpfsig_core=3,bpfsig_bpf=7

# series.py check: the series as patches/ has it passes; a copy with a
# fault does not. Crate patches by subject (numbers move).
series() { python3 "$BPFSIG_ROOT/scripts/series/series.py" check "$BPFSIG_ROOT" "$1"; }
# refuses DIR WHY: series.py check fails on DIR, and says WHY (the check
# meant, not another one the fault also trips).
refuses() { ! series "$1" 2>"$d/series.err" && grep -q "$2" "$d/series.err"; }
sp() { grep -l "^Subject: .*$2" "$d/series-$1"/*.patch | head -1; } # NAME SUBJECT
tamper() { # NAME: a copy of patches/ in $d/series-NAME
	rm -rf "$d/series-$1" && mkdir "$d/series-$1" && cp "$BPFSIG_ROOT"/patches/*.patch "$d/series-$1/"
}
must_pass "the series as exported" series "$BPFSIG_ROOT/patches"
tamper hunk
sed -i '0,/^@@ -0,0 +1,\([0-9]*\) @@/s//@@ -0,0 +1,999 @@/' "$(sp hunk 'bpf: add the bpf_loader_verify_metadata kfunc')"
must_pass "a hunk with a wrong line count" refuses "$d/series-hunk" "line counts are wrong"
tamper early
# The digest's entry point declared one patch late: #[export] would not build.
python3 - "$(sp early 'bpf: add the bpf_loader_verify_metadata kfunc')" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("+int bpfsig_loader_verify_metadata(", "+int bpfsig_loader_verify_metadata_(", 1)
open(p, "w").write(s)
PY
must_pass "an entry point not declared in <linux/bpfsig.h>" refuses "$d/series-early" "needs bpfsig_loader_verify_metadata() declared"
tamper mod
# The digest's KUnit vectors dropped from the patch that declares them.
python3 - "$(sp mod 'bpf: compute the program digest at BPF_PROG_LOAD entry')" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r"^diff --git a/kernel/bpf/bpfsig/digest/vectors.rs .*?(?=^diff --git |\Z)", "", s, count=1, flags=re.S | re.M)
open(p, "w").write(s)
PY
must_pass "a mod line whose file is not in the series" refuses "$d/series-mod" "declares digest/vectors.rs"
tamper cover
sed -i '0,/^Subject: \[PATCH 00\/[0-9]*\] /s//&x/' "$d/series-cover/0000-cover-letter.patch"
must_pass "a cover letter that is not scripts/series/cover-letter.txt" refuses "$d/series-cover" "cover-letter.txt: differs"

# The pinned counts exist for every layer the test command checks.
for k in "kunit bpfsig_metadata" "kunit bpfsig_digest" "kunit bpfsig_resolve" "kunit ipe-parser" vm vm-bpfsig-n vm-ipe-prop-n; do
	[ -n "$(expected $k)" ] || die "runner check: no pinned count for $k in selftests/expected-counts"
done
echo "runner: $n crafted inputs judged as they must be"
