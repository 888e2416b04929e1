#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install everything the kernel build, QEMU runs and VM selftests need.
# Idempotent: a second run checks versions and returns in seconds.
#   --apt-only   only Debian's packages (what fetch-kernel.sh needs too)
#   --no-fuzz    no cargo-fuzz (the demo does not fuzz)
. "$(dirname "$0")/../lib.sh"

apt_only=0 fuzz=1
for a in "$@"; do
	case "$a" in
	--apt-only) apt_only=1 ;;
	--no-fuzz) fuzz=0 ;;
	*) die "setup-toolchain.sh: unknown option $a" ;;
	esac
done

export DEBIAN_FRONTEND=noninteractive
t0=$(date +%s)

APT_PKGS=(clang-19 lld-19 llvm-19 libclang-19-dev flex bison bc cpio kmod
	libelf-dev libssl-dev zlib1g-dev libzstd-dev libcap-dev binutils-dev
	rustc-web rust-web-src cargo-web rust-web-clippy rustfmt-web g++ qemu-system-x86 busybox-static udev
	keyutils openssl python3-pip python3-venv git make xz-utils lz4 dwarves ovmf)

missing=()
for p in "${APT_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	log "apt: installing ${missing[*]}"
	apt-get update -qq >/dev/null 2>"$BPFSIG_CACHE/apt.err" ||
		die "apt-get update failed (no network to the Debian archive?): $(tail -3 "$BPFSIG_CACHE/apt.err")"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
fi
[ -x /usr/bin/rustc ] && /usr/bin/rustc --version | grep -q '^rustc 1\.96' ||
	die "Debian rustc 1.96 (rustc-web) not found at /usr/bin/rustc"
[ -d "$RUST_LIB_SRC_DEB" ] || die "rust-web-src missing: $RUST_LIB_SRC_DEB"
((apt_only == 0)) || exit 0

# bindgen-cli, pinned. Debian's cargo-web builds it; rustup's cargo would do too.
if ! "$BINDGEN" --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
	log "cargo install bindgen-cli $BINDGEN_VERSION (about 2 minutes)"
	cargo install --quiet --locked bindgen-cli --version "$BINDGEN_VERSION" ||
		die "cargo install bindgen-cli failed (no network to crates.io?)"
fi

# cargo-fuzz for the fuzz smoke runs (libFuzzer is built by its crate with g++).
if ((fuzz)) && ! command -v cargo-fuzz >/dev/null; then
	log "cargo install cargo-fuzz (about a minute)"
	cargo install --quiet --locked cargo-fuzz || die "cargo install cargo-fuzz failed (no network to crates.io?)"
fi

# pahole 1.30 from trixie, run through trixie's own loader (bookworm's 1.24
# silently drops the bpf_kfunc decl tags KF_IMPLICIT_ARGS kfuncs need).
mkdir -p "$BPFSIG_CACHE"
if ! "$PAHOLE_WRAPPER" --version 2>/dev/null | grep -q '^v1\.30'; then
	log "pahole 1.30 from trixie"
	apt_private_update
	d=$TOOLS/pahole130
	rm -rf "$d" && mkdir -p "$d/debs"
	for p in pahole dwarves libdw1t64 libelf1t64 libbpf1 libc6 zlib1g liblzma5 libbz2-1.0 libzstd1; do
		(cd "$d/debs" && apt-get "${APT_OPTS[@]}" download -qq "$p/trixie" >/dev/null) ||
			die "cannot download $p from trixie"
	done
	for f in "$d"/debs/*.deb; do dpkg -x "$f" "$d/root"; done
	cat >"$PAHOLE_WRAPPER" <<W
#!/bin/sh
R=$d/root
exec "\$R/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "\$R/usr/lib/x86_64-linux-gnu" "\$R/usr/bin/pahole" "\$@"
W
	chmod +x "$PAHOLE_WRAPPER"
	"$PAHOLE_WRAPPER" --version | grep -q '^v1\.30' || die "pahole 1.30 does not run"
fi

if ! "$VNG" --version 2>/dev/null | grep -q "$VNG_VERSION"; then
	log "virtme-ng $VNG_VERSION into $VENV"
	python3 -m venv --clear "$VENV" || die "python3 -m venv failed"
	"$VENV/bin/pip" install -q "virtme-ng==$VNG_VERSION" ||
		die "pip install virtme-ng failed (no network to PyPI?)"
	"$VNG" --version >/dev/null || die "vng does not run from $VENV"
fi

if ! "$VENV/bin/virt-fw-vars" --help >/dev/null 2>&1 ||
	[ "$("$VENV/bin/pip" show virt-firmware 2>/dev/null | sed -n 's/^Version: //p')" != "$VIRT_FW_VERSION" ]; then
	log "virt-firmware $VIRT_FW_VERSION into $VENV"
	"$VENV/bin/pip" install -q "virt-firmware==$VIRT_FW_VERSION" ||
		die "pip install virt-firmware failed (no network to PyPI?)"
fi

log "toolchain ready ($(since "$t0") s): $(/usr/bin/rustc --version | cut -d' ' -f1-2), clang-19, pahole $("$PAHOLE_WRAPPER" --version), bindgen $BINDGEN_VERSION, vng $("$VNG" --version | awk '{print $NF}')"
