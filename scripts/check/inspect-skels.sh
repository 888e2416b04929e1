#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check every skeleton build-skels.sh made with `bpfsig inspect`, offline:
# the good ones (the series' and 7.2's bpftool) verify with the signing
# certificate and fail with the other one; each tampered copy fails with its
# own exit status; `bpfsig diff` names the part a tampering changed.
#
#   inspect-skels.sh [DIR]     default $BPFSIG_CACHE/skel
#   inspect-skels.sh --kernel-tags LOG
#                              the loader tags the kernel reported in the VM
#                              (skeleton runners' "loader prog_tag" lines in
#                              LOG) equal the digest bpfsig computed offline
. "$(dirname "$0")/../lib.sh"

if [ "${1:-}" = --kernel-tags ]; then
	log_file=$2
	cargo build -q -p bpfsig-cli || die "building bpfsig failed"
	n=0
	while read -r hdr tag; do
		want=$("$CARGO_TARGET_DIR/debug/bpfsig" inspect --json "$BPFSIG_CACHE/skel/$hdr" |
			python3 -c 'import json, sys; print(json.load(sys.stdin)["loader"]["tag"])') || true
		[ "$tag" = "$want" ] || die "$hdr: the kernel's loader tag is $tag, bpfsig inspect says $want"
		n=$((n + 1))
	done < <(sed -n 's/^# *# loader prog_tag \([^ ]*\) \([0-9a-f]\{16\}\)$/\1 \2/p' "$log_file" | sort -u)
	((n >= 3)) || die "only $n loader tags in $log_file (the signed skeletons print theirs)"
	echo "inspect: $n loader tags equal what the kernel computed"
	exit 0
fi

DIR=${1:-$BPFSIG_CACHE/skel}
KEYS=$BPFSIG_ROOT/selftests/skel/keys
[ -d "$DIR" ] || die "no skeletons in $DIR (run scripts/build/build-skels.sh)"
cargo build -q -p bpfsig-cli || die "building bpfsig failed"
BPFSIG=$CARGO_TARGET_DIR/debug/bpfsig

pass=0
# expect STATUS ARGS...: run bpfsig, require that exit status.
expect() {
	local want=$1 rc=0
	shift
	"$BPFSIG" "$@" >"$BPFSIG_CACHE/inspect.out" 2>"$BPFSIG_CACHE/inspect.err" || rc=$?
	if [ "$rc" != "$want" ]; then
		cat "$BPFSIG_CACHE/inspect.out" "$BPFSIG_CACHE/inspect.err" >&2
		die "bpfsig $*: exit status $rc, expected $want"
	fi
	pass=$((pass + 1))
}

n=0
for h in "$DIR"/*.lskel.h; do
	case "$(basename "$h")" in
	*-tampered-data.lskel.h) expect 6 inspect "$h" --cert "$KEYS/signing.crt.pem" ;;
	*-tampered-insn.lskel.h) expect 3 inspect "$h" --cert "$KEYS/signing.crt.pem" ;;
	*-tampered-btf.lskel.h) expect 3 inspect "$h" --cert "$KEYS/signing.crt.pem" ;;
	*-bad-btf.lskel.h) expect 2 inspect "$h" --cert "$KEYS/signing.crt.pem" ;;
	*-other-key.lskel.h)
		expect 3 inspect "$h" --cert "$KEYS/signing.crt.pem"
		expect 0 inspect "$h" --cert "$KEYS/other.crt.pem"
		;;
	*)
		expect 0 inspect "$h" --cert "$KEYS/signing.crt.pem"
		expect 0 inspect "$h" --cert "$KEYS/signing.crt.der" --json
		expect 3 inspect "$h" --cert "$KEYS/other.crt.pem"
		expect 0 diff "$h" "$h"
		;;
	esac
	n=$((n + 1))
done
((n > 0)) || die "no *.lskel.h in $DIR"
# diff names the part each tampering changed.
for part in data:blob insn:loader-insns btf:loader-btf; do
	t=$DIR/maps-tampered-${part%%:*}.lskel.h
	[ -f "$t" ] || continue
	expect 8 diff "$DIR/maps.lskel.h" "$t"
	grep -q "^differs: ${part#*:}:" "$BPFSIG_CACHE/inspect.out" ||
		die "bpfsig diff maps.lskel.h $(basename "$t") does not name ${part#*:}: $(cat "$BPFSIG_CACHE/inspect.out")"
done
# The loader BTF libbpf wrote has the Rust reference's types and strings
# (and the tampered copy is seen to differ: the check can fail).
good=()
for h in "$DIR"/*.lskel.h; do
	case "$(basename "$h")" in *-7.2.lskel.h | *-tampered-btf.lskel.h | *-bad-btf.lskel.h) ;; *) good+=("$h") ;; esac
done
python3 "$BPFSIG_ROOT/scripts/check/loader-btf-check.py" "${good[@]}" || die "a skeleton's loader BTF is not the reference one"
pass=$((pass + 1))
[ -f "$DIR/bpfeb/counter.lskel.h" ] || die "no big-endian skeleton in $DIR/bpfeb"
python3 "$BPFSIG_ROOT/scripts/check/loader-btf-check.py" --big-endian "$DIR/bpfeb/counter.lskel.h" ||
	die "the big-endian skeleton's loader BTF is not the reference one in big-endian order"
! python3 "$BPFSIG_ROOT/scripts/check/loader-btf-check.py" "$DIR/bpfeb/counter.lskel.h" 2>/dev/null ||
	die "loader-btf-check.py takes big-endian BTF for little-endian"
pass=$((pass + 2))
if [ -f "$DIR/maps-tampered-btf.lskel.h" ]; then
	! python3 "$BPFSIG_ROOT/scripts/check/loader-btf-check.py" "$DIR/maps-tampered-btf.lskel.h" 2>/dev/null ||
		die "loader-btf-check.py accepts the tampered loader BTF"
	pass=$((pass + 1))
fi
echo "inspect: $n skeletons, $pass checks passed"
