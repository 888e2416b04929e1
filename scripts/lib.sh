# SPDX-License-Identifier: GPL-2.0
# Shared settings for bpfsig's scripts. Source it; do not run it.

set -euo pipefail

BPFSIG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BPFSIG_CACHE=${BPFSIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bpfsig}
export BPFSIG_ROOT BPFSIG_CACHE
mkdir -p "$BPFSIG_CACHE"

KSRC=$BPFSIG_CACHE/linux            # git tree: pristine import + patches
KBUILD=$BPFSIG_CACHE/build          # out-of-tree build dir
TOOLS=$BPFSIG_CACHE/tools           # pahole 1.30, bpftool, ...
PAHOLE_WRAPPER=$TOOLS/pahole130/pahole
RUST_LIB_SRC_DEB=/usr/src/rustc-1.96.0/library
BINDGEN_VERSION=0.73.2
VNG_VERSION=1.42
VENV=$BPFSIG_CACHE/venv             # virtme-ng lives here, whatever python3 is
VNG=$VENV/bin/vng

# Host builds are shared by every checkout (CI clones afresh each time).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$BPFSIG_CACHE/cargo-target}

export PATH=/usr/lib/llvm-19/bin:$HOME/.cargo/bin:$HOME/.local/bin:$PATH

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
apt_private_update() {
	apt_private_init
	mapfile -t APT_OPTS < <(apt_private_opts)
	apt-get "${APT_OPTS[@]}" update -qq >/dev/null 2>"$BPFSIG_CACHE/apt.err" ||
		die "private apt update (trixie/sid) failed (no network to the Debian archive?): $(tail -3 "$BPFSIG_CACHE/apt.err")"
}

# The make invocation every kernel step uses: Debian's Rust 1.96, LLVM 19, pahole 1.30.
kmake() {
	make -C "$KSRC" O="$KBUILD" LLVM=-19 \
		RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc HOSTRUSTC=/usr/bin/rustc \
		RUST_LIB_SRC="$RUST_LIB_SRC_DEB" BINDGEN="$HOME/.cargo/bin/bindgen" \
		PAHOLE="$PAHOLE_WRAPPER" LOCALVERSION= "$@"
}

# The project's in-kernel sources live in this checkout; the tree sees them
# through one symlink, kernel/bpf/bpfsig, ignored by the tree's git. Every
# build re-points it, so a tree shared by several checkouts builds the one
# that asked.
link_sources() {
	local link=$KSRC/kernel/bpf/bpfsig
	if [ "$(readlink "$link" 2>/dev/null)" != "$BPFSIG_ROOT" ]; then
		rm -f "$link" && ln -s "$BPFSIG_ROOT" "$link"
		# make cannot see a re-pointed link: drop the objects built from
		# the old target so they are rebuilt from this checkout.
		rm -rf "$KBUILD/kernel/bpf/bpfsig"
		grep -qx "/kernel/bpf/bpfsig" "$KSRC/.git/info/exclude" 2>/dev/null ||
			echo "/kernel/bpf/bpfsig" >>"$KSRC/.git/info/exclude"
	fi
}

# Seconds since an epoch stamp, for the timings the scripts print.
since() { echo $(($(date +%s) - $1)); }
