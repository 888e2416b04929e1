#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the kernel tree's BPF selftest runner test_progs with only the tests in
# TESTS, without the selftests Makefile (it builds every test and needs a far
# larger kernel config): the BPF objects and skeletons those tests #include,
# the tests list, the runner's helpers, libbpf.a from our bpftool build, plus
# what the tests need at run time (sign-file, verify_sig_setup.sh).
# Compiler flags and skeleton recipes mirror tools/testing/selftests/bpf/Makefile.
#
#   build-test-progs.sh [OUT]   build into OUT (default $BPFSIG_CACHE/test_progs)
#
# Run the tests from OUT (they exec ./verify_sig_setup.sh and ./sign-file):
#   cd OUT && ./test_progs -t signed_loader,map_excl
. "$(dirname "$0")/../lib.sh"

TESTS=(signed_loader map_excl ipe_bpf)
# What test_progs.c links against; trace_helpers (declared by test_progs.h) is
# not needed by the two tests today but is by many, and costs nothing.
HELPERS=(test_progs cgroup_helpers network_helpers testing_helpers json_writer trace_helpers)
ST=$KSRC/tools/testing/selftests/bpf
TB=$BPFSIG_CACHE/tools-build/bpftool
BPFTOOL=$TB/bpftool
LIBBPF_INC=$TB/libbpf/include
LIBBPF_A=$TB/libbpf/libbpf.a
OUT=$(mkdir -p "${1:-$BPFSIG_CACHE/test_progs}" && cd "${1:-$BPFSIG_CACHE/test_progs}" && pwd)
B=$OUT/build                        # intermediate files; OUT keeps what runs
JOBS=2

nc() { nice -n 10 "$@"; }
# True if $1 is missing or older than one of the other arguments.
stale() {
	local o=$1 d
	shift
	[ -e "$o" ] || return 0
	for d; do [ "$d" -nt "$o" ] && return 0; done
	return 1
}
# The prerequisites a -MMD .d file lists (nothing if there is none yet).
deps() { [ -f "$1" ] && sed -e 's/^[^:]*://' -e 's/\\$//' "$1" | tr -s ' \n' '\n' | grep . || true; }
# Replace $2 by $1 only if they differ, so that what depends on $2 is not rebuilt.
install_if_changed() { if cmp -s "$1" "$2"; then rm -f "$1"; else mv "$1" "$2"; fi; }
# The value of `NAME := ...` in the selftests Makefile, continuation lines joined.
mkvar() {
	awk -v n="$1" '!on && $1 == n && $2 ~ /^:?=$/ { on = 1; $1 = $2 = "" }
		on { c = sub(/\\$/, ""); print; if (!c) exit }' "$ST/Makefile" | tr -s ' \t\n' ' '
}
# Run up to JOBS commands at a time; drain waits for them and dies on a failure.
PIDS=()
spawn() { "$@" & PIDS+=($!); [ ${#PIDS[@]} -lt $JOBS ] || drain; }
drain() { local p f=0; for p in "${PIDS[@]}"; do wait "$p" || f=1; done; PIDS=(); [ $f = 0 ] || die "a compile failed (see above)"; }

[[ "$OUT" != *[[:space:]]* ]] || die "$OUT: the output path must not contain spaces (verify_sig_setup.sh)"
[ -f "$KBUILD/vmlinux" ] || die "no kernel at $KBUILD (run scripts/build/build-kernel.sh)"
for t in "${TESTS[@]}"; do [ -f "$ST/prog_tests/$t.c" ] || die "$ST/prog_tests/$t.c not found"; done
command -v clang >/dev/null || die "clang not on PATH (LLVM 19 expected in /usr/lib/llvm-19/bin)"
t0=$(date +%s)
mkdir -p "$B/prog_tests" "$TB"

log "bpftool and libbpf ($TB)"
nc make -s -C "$KSRC/tools/bpf/bpftool" OUTPUT="$TB/" VMLINUX_BTF="$KBUILD/vmlinux" -j$JOBS \
	>"$B/bpftool.log" 2>&1 || { tail -20 "$B/bpftool.log" >&2; die "building bpftool failed (log: $B/bpftool.log)"; }
[ -x "$BPFTOOL" ] && [ -f "$LIBBPF_A" ] && [ -f "$LIBBPF_INC/bpf/libbpf.h" ] ||
	die "bpftool build left no $BPFTOOL, $LIBBPF_A or $LIBBPF_INC"

# Generated headers are remade on every run (it is cheap) but replace the old
# ones only when they differ, so that what includes them is not rebuilt.
log "vmlinux.h from $KBUILD/vmlinux"
"$BPFTOOL" btf dump file "$KBUILD/vmlinux" format c >"$B/vmlinux.h.tmp" || die "bpftool btf dump of $KBUILD/vmlinux failed"
install_if_changed "$B/vmlinux.h.tmp" "$B/vmlinux.h"

# The key test_progs registers in the session keyring and signs lskels with
# (the Makefile makes one with `verify_sig_setup.sh genkey $(BUILD_DIR)`), and
# its header. Here it is the project's test key, which the test kernel has in
# its builtin keyring: ipe_bpf signs its IPE policies with it and loads the
# signed lskels from the builtin keyring as well as from the session keyring.
KEYS=$BPFSIG_ROOT/selftests/skel/keys
cat "$KEYS/signing.key.pem" "$KEYS/signing.crt.pem" >"$B/signing_key.pem.tmp"
install_if_changed "$B/signing_key.pem.tmp" "$B/signing_key.pem"
cp "$KEYS/signing.crt.der" "$B/signing_key.der.tmp"
install_if_changed "$B/signing_key.der.tmp" "$B/signing_key.der"
if stale "$B/verification_cert.h" "$B/signing_key.der"; then
	{ echo "unsigned char test_progs_verification_cert[] = {"
	  od -v -t 'xC' -w12 "$B/signing_key.der" | sed 's/ \(\S\+\)/ 0x\1,/g;s/^\S\+/ /;$d'
	  echo "};"
	  echo "unsigned int test_progs_verification_cert_len = $(wc -c <"$B/signing_key.der");"
	} >"$B/verification_cert.h"
fi

# BPF objects: those whose skeletons the tests include, and those they open by name.
TEST_SRCS=()
for t in "${TESTS[@]}"; do TEST_SRCS+=("$ST/prog_tests/$t.c"); done
mapfile -t SKELS < <(sed -n -E 's/^#include "([A-Za-z0-9_]+\.(l|sub)?skel\.h)".*/\1/p' "${TEST_SRCS[@]}" | sort -u)
mapfile -t OBJS < <({ printf '%s\n' "${SKELS[@]}" | sed -E 's/\.(l|sub)?skel\.h$//'
	grep -ohE '"[A-Za-z0-9_-]+\.bpf\.o"' "${TEST_SRCS[@]}" | tr -d '"' | sed 's/\.bpf\.o$//'; } | sort -u)
LINKED=" $(mkvar LINKED_SKELS) " SIGNED=" $(mkvar LSKELS_SIGNED) "
SYS_INC=$(clang -v -E - </dev/null 2>&1 | sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS=(-g -Wall -Werror -D__TARGET_ARCH_x86 -mlittle-endian -I"$B" -I"$LIBBPF_INC" -I"$ST"
	-I"$KSRC/tools/include/uapi" -I"$KSRC/tools/include" -I"$ST/libarena/include" -std=gnu11
	-fno-strict-aliasing -Wno-microsoft-anon-tag -fms-extensions -Wno-compare-distinct-pointer-types
	-Wno-initializer-overrides $SYS_INC -DENABLE_ATOMICS_TESTS -O2 --target=bpfel -mcpu=v3)
bpf_obj() { # name
	local o=$OUT/$1.bpf.o d
	[ -f "$ST/progs/$1.c" ] || die "no BPF program $ST/progs/$1.c (wanted by ${TESTS[*]})"
	mapfile -t d < <(deps "$B/$1.bpf.d")
	stale "$o" "$ST/progs/$1.c" "$B/vmlinux.h" "${d[@]}" || return 0
	nc clang "${BPF_CFLAGS[@]}" -MMD -MF "$B/$1.bpf.d" -c "$ST/progs/$1.c" -o "$o" ||
		die "clang failed on progs/$1.c"
}
log "BPF objects: ${OBJS[*]}"
for o in "${OBJS[@]}"; do spawn bpf_obj "$o"; done
drain

# Skeletons, as the Makefile makes them: link the object three times with
# `bpftool gen object` (the last two must be identical), then generate.
skel() { # header
	local h=$1 base lopts=(-L)
	base=$(echo "$h" | sed -E 's/\.(l|sub)?skel\.h$//')
	case "$LINKED" in *" $base.skel.h "*) die "$h is a multi-object (LINKED_SKELS) skeleton: not supported here" ;; esac
	# -S implies -L; the Makefile signs the LSKELS_SIGNED ones with its build key.
	[[ "$SIGNED" != *" $base.c "* ]] || lopts=(-S -k "$B/signing_key.pem" -i "$B/signing_key.der")
	local l=$B/$base.linked
	"$BPFTOOL" gen object "${l}1.o" "$OUT/$base.bpf.o" && "$BPFTOOL" gen object "${l}2.o" "${l}1.o" &&
		"$BPFTOOL" gen object "${l}3.o" "${l}2.o" && cmp -s "${l}2.o" "${l}3.o" ||
		die "bpftool gen object of $base.bpf.o failed or is not stable"
	case "$h" in
	*.lskel.h) "$BPFTOOL" gen skeleton "${lopts[@]}" "${l}3.o" name "${base}_lskel" >"$B/$h.tmp" ;;
	*) "$BPFTOOL" gen skeleton "${l}3.o" name "$base" >"$B/$base.skel.h.tmp" &&
		"$BPFTOOL" gen subskeleton "${l}3.o" name "$base" >"$B/$base.subskel.h.tmp" &&
		install_if_changed "$B/$base.subskel.h.tmp" "$B/$base.subskel.h" && h=$base.skel.h ;;
	esac || die "bpftool gen skeleton failed for $h"
	install_if_changed "$B/$h.tmp" "$B/$h"
	rm -f "${l}"[123].o
}
log "skeletons: ${SKELS[*]}"
for h in "${SKELS[@]}"; do skel "$h"; done

# The tests list test_progs.c includes as <prog_tests/tests.h>.
{ echo '/* Generated header, do not edit */'
  sed -n -E 's/^void (serial_)?test_([a-zA-Z0-9_]+)\((void)?\).*/DEFINE_TEST(\2)/p' "${TEST_SRCS[@]}" | sort
} >"$B/prog_tests/tests.h.tmp"
install_if_changed "$B/prog_tests/tests.h.tmp" "$B/prog_tests/tests.h"
[ "$(grep -c DEFINE_TEST "$B/prog_tests/tests.h")" = ${#TESTS[@]} ] ||
	die "not every one of ${TESTS[*]} defines a void test_NAME(void) (see $B/prog_tests/tests.h)"

CFLAGS=(-g -O0 -rdynamic -std=gnu11 -Wall -Werror -fno-omit-frame-pointer -Wno-unused-but-set-variable
	-I"$B" -I"$ST" -I"$LIBBPF_INC" -I"$KBUILD/include/generated" -I"$KSRC/tools/lib"
	-I"$KSRC/tools/include" -I"$KSRC/tools/arch/x86/include" -I"$KSRC/tools/include/uapi"
	-I"$ST/libarena/include")
[ -f "$KBUILD/include/generated/autoconf.h" ] && CFLAGS+=(-DHAVE_GENHDR)
cc_obj() { # source object
	local d
	mapfile -t d < <(deps "$2.d")
	stale "$2" "$1" "${d[@]}" || return 0
	nc cc "${CFLAGS[@]}" -MMD -MF "$2.d" -c "$1" -o "$2" || die "cc failed on ${1#"$ST"/}"
}
log "test_progs: ${HELPERS[*]/%/.c} + prog_tests/{$(IFS=,; echo "${TESTS[*]}")}.c"
UOBJS=()
for s in "${HELPERS[@]}"; do UOBJS+=("$B/$s.o"); spawn cc_obj "$ST/$s.c" "$B/$s.o"; done
for t in "${TESTS[@]}"; do UOBJS+=("$B/$t.test.o"); spawn cc_obj "$ST/prog_tests/$t.c" "$B/$t.test.o"; done
drain
if stale "$OUT/test_progs" "${UOBJS[@]}" "$LIBBPF_A"; then
	nc cc "${CFLAGS[@]}" "${UOBJS[@]}" "$LIBBPF_A" -lelf -lz -lrt -lpthread -o "$OUT/test_progs" ||
		die "linking test_progs failed"
fi

log "sign-file and verify_sig_setup.sh"
if stale "$OUT/sign-file" "$KSRC/scripts/sign-file.c"; then
	nc cc $(pkg-config --cflags libcrypto 2>/dev/null) -I"$KSRC/tools/include/uapi" \
		"$KSRC/scripts/sign-file.c" -o "$OUT/sign-file" \
		$(pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto) || die "building sign-file failed (libssl-dev?)"
fi
cp -p "$ST/verify_sig_setup.sh" "$OUT/"

log "test_progs (${TESTS[*]}) in $OUT ($(since "$t0") s); run: cd $OUT && ./test_progs -t $(IFS=,; echo "${TESTS[*]}")"
