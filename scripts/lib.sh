# SPDX-License-Identifier: GPL-2.0
# Shared settings for bpfsig's scripts. Source it; do not run it.

set -euo pipefail

BPFSIG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BPFSIG_CACHE=${BPFSIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bpfsig}
export BPFSIG_ROOT BPFSIG_CACHE
mkdir -p "$BPFSIG_CACHE"

KSRC=$BPFSIG_CACHE/linux            # git tree: pristine import + patches
# The test signing certificate (selftests/skel/keys): builtin trusted key of
# the test kernel, signer of its IPE policies and of the test skeletons.
TEST_CERT=$BPFSIG_ROOT/selftests/skel/keys/signing.crt.pem
# BPFSIG_DEBUG=1: the same series with KASAN, lockdep and friends
# (qemu/debug.config), in a build directory of its own.
if [ "${BPFSIG_DEBUG:-0}" = 1 ]; then
	KBUILD=${BPFSIG_KBUILD:-$BPFSIG_CACHE/build-debug}
	FRAGMENTS=("$BPFSIG_ROOT/qemu/bpfsig.config" "$BPFSIG_ROOT/qemu/debug.config")
elif [ -n "${BPFSIG_VARIANT:-}" ]; then
	# BPFSIG_VARIANT=bpfsig-n|ipe-prop-n: the series with an option of its
	# own turned off (qemu/variant-NAME.config), for the smoke boots of
	# scripts/series/check-series.sh configs.
	[ -f "$BPFSIG_ROOT/qemu/variant-$BPFSIG_VARIANT.config" ] ||
		{ echo "unknown BPFSIG_VARIANT $BPFSIG_VARIANT (qemu/variant-*.config)" >&2; exit 1; }
	KBUILD=${BPFSIG_KBUILD:-$BPFSIG_CACHE/build-$BPFSIG_VARIANT}
	FRAGMENTS=("$BPFSIG_ROOT/qemu/bpfsig.config" "$BPFSIG_ROOT/qemu/variant-$BPFSIG_VARIANT.config")
else
	KBUILD=${BPFSIG_KBUILD:-$BPFSIG_CACHE/build}  # out-of-tree build dir (BPFSIG_KBUILD: boot another one)
	FRAGMENTS=("$BPFSIG_ROOT/qemu/bpfsig.config")
fi
TOOLS=$BPFSIG_CACHE/tools           # pahole 1.30, bpftool, ...
PAHOLE_WRAPPER=$TOOLS/pahole130/pahole
RUST_LIB_SRC_DEB=/usr/src/rustc-1.96.0/library
BINDGEN_VERSION=0.73.2
VNG_VERSION=1.42
VENV=$BPFSIG_CACHE/venv             # virtme-ng lives here, whatever python3 is
VNG=$VENV/bin/vng
VIRT_FW_VERSION=26.10               # virt-fw-vars: enrolls the platform test key in OVMF's db
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
OVMF_DB_OWNER=6270f5f1-7b5e-4c4b-9b1e-62706673696e  # any GUID: the db entry's owner

# Host builds are shared by every checkout (CI clones afresh each time).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$BPFSIG_CACHE/cargo-target}

# Nothing is found through the caller's environment: the tools are Debian's
# (cargo, rustc, clippy and rustfmt 1.96 included), LLVM 19's, and what
# setup-toolchain.sh installs into the cache (bindgen, cargo-fuzz through
# CARGO_HOME; virtme-ng in its venv). A tool that only a developer's own
# PATH provides (rustup in ~/.cargo/bin, pip --user in ~/.local/bin) is never
# picked up, so a missing install step fails here as it would on a fresh
# machine.
export CARGO_HOME=$BPFSIG_CACHE/cargo
export PATH=/usr/lib/llvm-19/bin:$CARGO_HOME/bin:$VENV/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset RUSTUP_TOOLCHAIN RUSTC RUSTDOC RUSTFLAGS CARGO_BUILD_RUSTC RUSTC_WRAPPER
BINDGEN=$CARGO_HOME/bin/bindgen

log() { printf '\033[1m[bpfsig]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[bpfsig] error:\033[0m %s\n' "$*" >&2; exit 1; }

# The private apt configuration: trixie, trixie-backports and sid, with their own
# lists and cache, so that the system's sources are never touched.
APT_DIR=$BPFSIG_CACHE/apt
apt_private_opts() {
	printf '%s\n' \
		-o "Dir::Etc::SourceList=$APT_DIR/sources.list" \
		-o "Dir::Etc::SourceParts=$APT_DIR/sources.list.d" \
		-o "Dir::State::Lists=$APT_DIR/lists" \
		-o "Dir::Cache::archives=$APT_DIR/archives" \
		-o "Dir::Cache::pkgcache=$APT_DIR/pkgcache.bin" \
		-o "Dir::Cache::srcpkgcache=$APT_DIR/srcpkgcache.bin" \
		-o "Dir::Etc::Preferences=$APT_DIR/preferences" \
		-o "Dir::Etc::PreferencesParts=$APT_DIR/preferences.d" \
		-o "APT::Default-Release=" \
		-o "APT::Sandbox::User=root"
}

apt_private_init() {
	mkdir -p "$APT_DIR"/{lists/partial,archives/partial,sources.list.d,preferences.d}
	touch "$APT_DIR/preferences"
	cat >"$APT_DIR/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
SRC
}

# Sets up the private apt configuration, fills the array APT_OPTS with its
# options and updates its lists; dies with apt's own words if that fails.
# Lists updated in the last hour are used as they are: the set-up updates
# them once before fetching the sources and pahole side by side, and two
# apt-get updates of the same lists at once would fight over their lock.
apt_private_update() {
	apt_private_init
	mapfile -t APT_OPTS < <(apt_private_opts)
	[ -n "$(find "$APT_DIR/updated" -mmin -60 2>/dev/null)" ] && return 0
	apt-get "${APT_OPTS[@]}" update -qq >/dev/null 2>"$BPFSIG_CACHE/apt.err" ||
		die "private apt update (trixie/sid) failed (no network to the Debian archive?): $(tail -3 "$BPFSIG_CACHE/apt.err")"
	touch "$APT_DIR/updated"
}

# The toolchain (setup-toolchain.sh ARGS) and the kernel sources
# (fetch-kernel.sh), side by side: importing the sources is downloads, disk
# and git on one core, while cargo install compiles on both. Debian's
# packages come first, as both need them.
setup_and_fetch() {
	bash "$BPFSIG_ROOT/scripts/build/setup-toolchain.sh" --apt-only
	if [ ! -d "$KSRC/.git" ]; then
		log "fetching the 7.2 sources while the toolchain installs (log: $BPFSIG_CACHE/fetch.log)"
		apt_private_update
	fi
	bash "$BPFSIG_ROOT/scripts/build/fetch-kernel.sh" >"$BPFSIG_CACHE/fetch.log" 2>&1 &
	local fetch=$!
	bash "$BPFSIG_ROOT/scripts/build/setup-toolchain.sh" "$@" || { kill "$fetch" 2>/dev/null; wait "$fetch"; exit 1; }
	wait "$fetch" || { cat "$BPFSIG_CACHE/fetch.log" >&2; die "fetching the kernel sources failed"; }
	cat "$BPFSIG_CACHE/fetch.log" >&2
}

# The make invocation every kernel step uses: Debian's Rust 1.96, LLVM 19,
# pahole 1.30, and clippy on every Rust object (the bpfsig crate denies the
# constructs that can panic; only clippy can tell).
kmake() {
	make -C "$KSRC" O="$KBUILD" LLVM=-19 \
		RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc HOSTRUSTC=/usr/bin/rustc \
		CLIPPY=1 CLIPPY_DRIVER=/usr/bin/clippy-driver \
		RUST_LIB_SRC="$RUST_LIB_SRC_DEB" BINDGEN="$BINDGEN" \
		PAHOLE="$PAHOLE_WRAPPER" LOCALVERSION= "$@"
}

# The tree object pristine + patches/ would give, computed in a scratch index
# without touching any file of the tree (so nothing is rebuilt).
series_tree() {
	local idx p
	idx=$(mktemp)
	GIT_INDEX_FILE=$idx git -C "$KSRC" read-tree pristine
	for p in "$BPFSIG_ROOT"/patches/[0-9]*.patch; do
		case "$p" in */0000-*) continue ;; esac
		GIT_INDEX_FILE=$idx git -C "$KSRC" apply --cached "$p" 2>/dev/null ||
			{ rm -f "$idx"; echo "unappliable:$(basename "$p")"; return 0; }
	done
	GIT_INDEX_FILE=$idx git -C "$KSRC" write-tree
	rm -f "$idx"
}

# Succeeds when the kernel tree is exactly pristine + patches/: its HEAD has
# that tree and nothing is modified or added. Otherwise says what differs.
tree_is_series() {
	local want have dirty
	want=$(series_tree)
	have=$(git -C "$KSRC" rev-parse 'HEAD^{tree}')
	dirty=$(git -C "$KSRC" status --porcelain | head -5)
	if [ -n "$dirty" ]; then
		log "$KSRC has uncommitted edits or new files:"; printf '  %s\n' "$dirty" >&2
		return 1
	fi
	if [ "$want" != "$have" ]; then
		case "$want" in unappliable:*) log "patches/${want#unappliable:} does not apply to pristine" ;;
		*) log "$KSRC differs from pristine + patches/ ($(git -C "$KSRC" diff --stat "$want" HEAD | tail -1))" ;;
		esac
		return 1
	fi
}

# What in a kernel log means the run failed, whatever the tests said.
KERNEL_REPORTS='WARNING:|BUG:|Oops|general protection fault|refcount_t:|KASAN:|UBSAN:|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|sleeping function called from invalid context|blocked for more than [0-9]+ seconds|detected stalls? on CPU|self-detected stall|rcu_preempt detected|rcu_sched detected'
# How every VM but the KUnit one boots the test kernel: TCG, the host's root
# file system over 9p, and the built-in KUnit suites off (they run in their
# own boot, scripts/vm/run-kunit.sh; here they would cost ~27 s of each boot).
VM_OPTS=(--disable-kvm --force-9p --memory 1G --cpus 2 --append kunit.enable=0)

# The marker a VM prints before its kernel log (dmesg).
KLOG_MARKER="--- bpfsig: kernel log ---"

# Saves the kernel log a VM printed after KLOG_MARKER in OUT to OUT.dmesg and
# dies unless it is there and clean. A log must hold the kernel's own
# (timestamped) lines: an empty or failed dmesg is not a clean one.
check_vm_klog() { # out what
	local out=$1 what=$2
	sed -n "/^$KLOG_MARKER\$/,\$p" "$out" | tail -n +2 >"$out.dmesg"
	grep -qE '^\[ *[0-9]+\.[0-9]+\] ' "$out.dmesg" ||
		die "the VM printed no kernel log after $what (log: $out; a missing log is not a clean one)"
	if grep -qE "$KERNEL_REPORTS" "$out.dmesg"; then
		grep -E -A12 "$KERNEL_REPORTS" "$out.dmesg" | head -40 >&2
		die "the kernel reported a problem during $what (kernel log: $out.dmesg)"
	fi
}

# The pinned counts (selftests/expected-counts): `expected KIND [NAME]`
# prints the count of that line, `expected KIND` every "NAME COUNT" of KIND.
EXPECTED_COUNTS=$BPFSIG_ROOT/selftests/expected-counts
expected() {
	if [ $# = 2 ]; then
		awk -v k="$1" -v n="$2" '$1 == k && $2 == n { print $3 }' "$EXPECTED_COUNTS"
	else
		awk -v k="$1" '$1 == k { print ($3 == "" ? $2 : $2 " " $3) }' "$EXPECTED_COUNTS"
	fi
}

# Seconds since an epoch stamp, for the timings the scripts print.
since() { echo $(($(date +%s) - $1)); }

# Stage timings of an entry point (demo.sh, test.sh) for the fresh-machine
# table of BENCHMARKS.md: "NAME<TAB>SECONDS" per stage, written to
# $BPFSIG_CACHE/timing-SCRIPT-KIND.txt when the run succeeds. KIND is what
# the cache held at the start: fresh (nothing installed into it yet), cold
# (no kernel built) or warm.
timing_start() {
	if [ ! -x "$BINDGEN" ]; then TIMING_KIND=fresh
	elif [ ! -f "$KBUILD/vmlinux" ]; then TIMING_KIND=cold
	else TIMING_KIND=warm
	fi
	TIMING_FILE=$BPFSIG_CACHE/timing-$1-$TIMING_KIND.txt
	TIMING_T=$(date +%s) TIMING_T0=$(date +%s) TIMING_NAME=
	: >"$TIMING_FILE.part"
}
timing_stage() {
	local now
	now=$(date +%s)
	[ -z "$TIMING_NAME" ] || printf '%s\t%d\n' "$TIMING_NAME" $((now - TIMING_T)) >>"$TIMING_FILE.part"
	TIMING_NAME=$1 TIMING_T=$now
}
timing_done() {
	timing_stage ""
	printf 'total\t%d\n' $(($(date +%s) - TIMING_T0)) >>"$TIMING_FILE.part"
	mv "$TIMING_FILE.part" "$TIMING_FILE"
}
