#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build what a user of the series builds: libbpf and bpftool from the patched
# tree, the project's BPF C programs (selftests/skel/progs) against the bpfsig
# kernel's vmlinux.h, signed light skeletons made with `bpftool gen skeleton
# -L -S`, and one test runner per skeleton (selftests/skel/skel_run.c).
# Also builds 7.2's own bpftool from the pristine tree, for the compatibility
# case, and tampered copies of one skeleton.
#
#   build-skels.sh [OUT]      build into OUT (default $BPFSIG_CACHE/skel)
#   build-skels.sh --repro    build the skeletons from two copies of the sources
#                             in two directories, some time apart, the second
#                             as another user on another host name, time zone
#                             and locale, and require byte-identical headers
. "$(dirname "$0")/../lib.sh"

SKSRC=$BPFSIG_ROOT/selftests/skel
TB=$BPFSIG_CACHE/tools-build
BPFTOOL=$TB/bpftool/bpftool
BPFTOOL72=$TB/bpftool-7.2/bpftool
LIBBPF_INC=$TB/bpftool/libbpf/include
KEYS=$SKSRC/keys
PROGS=(counter maps lsm)

# bpftool (and the libbpf it links) from a source tree, into a build dir.
build_bpftool() { # src out
	mkdir -p "$2"
	make -s -C "$1/tools/bpf/bpftool" OUTPUT="$2/" VMLINUX_BTF="$KBUILD/vmlinux" \
		-j"$(nproc)" >"$2.log" 2>&1 || { tail -20 "$2.log" >&2; die "building bpftool from $1 failed (log: $2.log)"; }
}

# 7.2's tools, from the pristine commit (only what bpftool's build reads).
pristine_tools() {
	local src=$TB/src-7.2 want
	want="$(git -C "$KSRC" rev-parse pristine) 2"
	if [ "$(cat "$src/.commit" 2>/dev/null)" != "$want" ]; then
		rm -rf "$src" && mkdir -p "$src"
		git -C "$KSRC" archive pristine tools scripts/bpf_doc.py include/uapi/linux/bpf.h \
			kernel/bpf/disasm.c kernel/bpf/disasm.h |
			tar -x -C "$src" || die "extracting 7.2's tools failed"
		echo "$want" >"$src/.commit"
	fi
	build_bpftool "$src" "$TB/bpftool-7.2"
}

# Compile the BPF programs and generate signed skeletons, in OUT, from the
# sources in SRC. Paths are remapped so that the objects do not depend on
# where the sources or the build directory are.
skeletons() { # src out
	local src=$1 out=$2 p
	mkdir -p "$out"
	"$BPFTOOL" btf dump file "$KBUILD/vmlinux" format c >"$out/vmlinux.h" ||
		die "bpftool btf dump of $KBUILD/vmlinux failed"
	for p in "${PROGS[@]}"; do
		clang -target bpf -O2 -g -D__TARGET_ARCH_x86 -Wall -Werror \
			-fms-extensions -Wno-microsoft-anon-tag \
			-ffile-prefix-map="$src"=. -ffile-prefix-map="$out"=. \
			-I"$out" -I"$LIBBPF_INC" -c "$src/progs/$p.bpf.c" -o "$out/$p.bpf.o" ||
			die "clang failed on $p.bpf.c"
		"$BPFTOOL" -L -S -k "$KEYS/signing.key.pem" -i "$KEYS/signing.crt.pem" \
			gen skeleton "$out/$p.bpf.o" name "$p" >"$out/$p.lskel.h" ||
			die "bpftool gen skeleton -L -S failed on $p.bpf.o"
	done
}

# A test runner for one header: runner NAME HEADER PROG DEFINES...
runner() {
	local name=$1 hdr=$2 prog=$3
	shift 3
	cc -O2 -g -Wall -Werror -I"$OUT" -I"$LIBBPF_INC" -I"$KSRC/tools/include/uapi" \
		-DSKEL="$prog" -DPROG_"$prog" -DSKEL_HDR="\"$hdr\"" "$@" \
		"$SKSRC/skel_run.c" -o "$OUT/bin/$name" || die "compiling the runner for $hdr failed"
}

[ -f "$KBUILD/vmlinux" ] || die "no kernel at $KBUILD (run scripts/build/build-kernel.sh)"
# The second half of --repro, in its own environment (see there).
if [ "${1:-}" = --repro-one ]; then
	skeletons "$2" "$3"
	exit 0
fi
tree_is_series || die "the kernel tree is not pristine + patches/"
t0=$(date +%s)
build_bpftool "$KSRC" "$TB/bpftool"

if [ "${1:-}" = --repro ]; then
	a=$(mktemp -d /tmp/bpfsig-repro-a.XXXXXX)
	b=$(mktemp -d "$BPFSIG_CACHE/repro-b.XXXXXX")
	cp -r "$SKSRC" "$a/src" && cp -r "$SKSRC" "$b/sources-elsewhere"
	skeletons "$a/src" "$a/out"
	sleep 2
	# The second build differs in everything a build could leak: directory,
	# time, user and group ids, user name, HOME, hostname, time zone,
	# locale and umask.
	mkdir -p "$b/home"
	unshare --uts -- sh -c 'hostname bpfsig-repro-b && exec "$@"' sh \
		unshare --user --map-user=4242 --map-group=4242 -- \
		env -i PATH="$PATH" HOME="$b/home" USER=repro LOGNAME=repro \
		TZ=Pacific/Kiritimati LANG=de_DE.UTF-8 LC_ALL=C.UTF-8 BPFSIG_CACHE="$BPFSIG_CACHE" \
		sh -c 'umask 077 && [ "$(id -u)" = 4242 ] && exec bash "$@"' sh \
		"$BPFSIG_ROOT/scripts/build/build-skels.sh" --repro-one "$b/sources-elsewhere" "$b/build/out" ||
		die "the second --repro build (other user, host, zone, locale) failed"
	n=0
	for p in "${PROGS[@]}"; do
		cmp -s "$a/out/$p.lskel.h" "$b/build/out/$p.lskel.h" ||
			die "$p.lskel.h differs between $a/out and $b/build/out"
		grep -q 'opts_sig\[\]' "$a/out/$p.lskel.h" && grep -q 'opts_btf\[\]' "$a/out/$p.lskel.h" ||
			die "$p.lskel.h has no signature or no loader BTF"
		n=$((n + 1))
	done
	rm -rf "$a" "$b"
	log "reproducible: $n signed skeletons byte-identical from two builds (directory, time, user, host, zone, locale) ($(since "$t0") s)"
	exit 0
fi

OUT=${1:-$BPFSIG_CACHE/skel}
rm -rf "$OUT" && mkdir -p "$OUT/bin"
skeletons "$SKSRC" "$OUT"
for p in "${PROGS[@]}"; do
	runner "$p" "$p.lskel.h" "$p" -DEXPECT_VERDICT=2
done

# SPEC §6: the loader BTF follows the target's byte order. A big-endian
# object's signed skeleton (not loadable here; inspect-skels.sh compares its
# BTF with the reference, byte-swapped).
mkdir -p "$OUT/bpfeb"
clang -target bpfeb -O2 -g -D__TARGET_ARCH_x86 -Wall -Werror -fms-extensions -Wno-microsoft-anon-tag \
	-ffile-prefix-map="$SKSRC"=. -I"$OUT" -I"$LIBBPF_INC" -c "$SKSRC/progs/counter.bpf.c" \
	-o "$OUT/bpfeb/counter.bpf.o" || die "clang -target bpfeb failed on counter.bpf.c"
"$BPFTOOL" -L -S -k "$KEYS/signing.key.pem" -i "$KEYS/signing.crt.pem" \
	gen skeleton "$OUT/bpfeb/counter.bpf.o" name counter >"$OUT/bpfeb/counter.lskel.h" ||
	die "bpftool gen skeleton -L -S failed on a big-endian object"

# Tampered copies of the maps skeleton: one byte of the data blob (the kfunc
# refuses it: -EINVAL), of the instructions or of the loader's BTF (the
# signature no longer verifies: -EKEYREJECTED).
for what in data:EINVAL insn:EKEYREJECTED btf:EKEYREJECTED; do
	arr=${what%%:*}
	python3 "$SKSRC/tamper.py" "$OUT/maps.lskel.h" "opts_$arr" "$OUT/maps-tampered-$arr.lskel.h" ||
		die "tampering with opts_$arr failed"
	runner "maps-tampered-$arr" "maps-tampered-$arr.lskel.h" maps -DEXPECT_ERR="${what#*:}"
done
# A loader BTF that BPF_BTF_LOAD refuses (bad magic): a clear error from
# bpf_load_and_run(), and nothing left behind.
python3 "$SKSRC/tamper.py" "$OUT/maps.lskel.h" opts_btf_magic "$OUT/maps-bad-btf.lskel.h" ||
	die "tampering with the BTF magic failed"
runner maps-bad-btf maps-bad-btf.lskel.h maps -DEXPECT_ERR=EINVAL \
	-DEXPECT_ERRSTR='"failed to load loader BTF"'
# Refused by the example IPE policy (a user keyring is not the builtin one).
runner maps-ipe-denied maps.lskel.h maps -DEXPECT_ERR=EACCES
# Signed with a key whose certificate is not in the loader's keyring.
"$BPFTOOL" -L -S -k "$KEYS/other.key.pem" -i "$KEYS/other.crt.pem" \
	gen skeleton "$OUT/maps.bpf.o" name maps >"$OUT/maps-other-key.lskel.h" ||
	die "bpftool gen skeleton with the other key failed"
runner maps-other-key maps-other-key.lskel.h maps -DEXPECT_ERR=ENOKEY

# 7.2's bpftool: the inline metadata check and an insns-only signature. The
# header compiles against the new skel_internal.h and loads as VERIFIED.
pristine_tools
for p in "${PROGS[@]}"; do
	"$BPFTOOL72" -L -S -k "$KEYS/signing.key.pem" -i "$KEYS/signing.crt.pem" \
		gen skeleton "$OUT/$p.bpf.o" name "$p" >"$OUT/$p-7.2.lskel.h" ||
		die "7.2's bpftool gen skeleton failed on $p.bpf.o"
	! grep -q 'opts_btf' "$OUT/$p-7.2.lskel.h" || die "7.2's bpftool emitted a loader BTF?"
	runner "$p-7.2" "$p-7.2.lskel.h" "$p" -DEXPECT_VERDICT=1
done
cc -O2 -Wall -Werror -I"$KSRC/tools/include/uapi" "$SKSRC/unsigned_load.c" -o "$OUT/bin/unsigned_load" ||
	die "compiling unsigned_load.c failed"
# `bpftool prog load -L -S` generates, signs and runs a loader in one go.
cp "$BPFTOOL" "$OUT/bin/bpftool"
cp "$KEYS/signing.crt.der" "$KEYS/signing.key.pem" "$KEYS/signing.crt.pem" \
	"$KEYS/platform.crt.pem" "$KEYS/platform.key.pem" \
	"$BPFSIG_ROOT/selftests/ipe/example.policy" "$OUT/"
log "skeletons and runners in $OUT ($(ls "$OUT/bin" | wc -l) runners, $(since "$t0") s)"
