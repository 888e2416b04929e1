#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch Debian's linux-source-7.2 through a private apt configuration, import it
# into a git tree in the cache (first commit = pristine), apply patches/ with
# git am, and link this repository's in-kernel sources into the tree.
#
# Re-runs are cheap: the tree is only re-patched when the series changed, and
# never over commits a developer made in the tree (export them first with
# scripts/export-patches.sh, or set BPFSIG_RESET=1 to drop them).
. "$(dirname "$0")/lib.sh"

t0=$(date +%s)
mkdir -p "$BPFSIG_CACHE"
series_id() {
	local f
	for f in "$BPFSIG_ROOT"/patches/*.patch; do [ -e "$f" ] && cat "$f"; done | sha256sum | cut -c1-16
}

if [ ! -d "$KSRC/.git" ] || ! git -C "$KSRC" rev-parse -q --verify refs/tags/pristine >/dev/null; then
	log "looking up linux-source-7.2 in trixie-backports/sid (private apt config)"
	apt_private_update
	ver=$(apt-cache "${APT_OPTS[@]}" madison linux-source-7.2 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' |
		{ grep -E '^7\.2(\.[0-9]+)?-' || true; } | sort -V | tail -1)
	if [ -z "$ver" ]; then
		why=$(grep -m2 -E '^(W|E|Err):' "$BPFSIG_CACHE/apt.err" || true)
		die "no linux-source-7.2 (7.2.x) found in trixie-backports or sid${why:+ (apt: $why)}"
	fi
	log "using linux-source-7.2 $ver"
	dl=$BPFSIG_CACHE/src
	rm -rf "$dl" && mkdir -p "$dl"
	(cd "$dl" && apt-get "${APT_OPTS[@]}" download -qq "linux-source-7.2=$ver" >/dev/null) ||
		die "cannot download linux-source-7.2=$ver"
	dpkg -x "$dl"/linux-source-7.2_*.deb "$dl/x"
	tarball=$(ls "$dl"/x/usr/src/linux-source-7.2.tar.*)
	rm -rf "$KSRC.tmp" && mkdir -p "$KSRC.tmp"
	tar -xf "$tarball" -C "$KSRC.tmp" --strip-components=1
	kv=$(make -s -C "$KSRC.tmp" kernelversion)
	case "$kv" in 7.2 | 7.2.*) ;; *) die "unpacked source is $kv, not 7.2" ;; esac
	(
		cd "$KSRC.tmp"
		git init -q -b main
		git config user.name bpfsig
		git config user.email bpfsig@localhost
		git config core.autocrlf false
		# Debian's packaging rule ignores every top-level path, which would
		# hide new files from git; the patch series never touches .gitignore.
		python3 - <<'PY'
s = open(".gitignore").read()
i = s.find("#\n# Debian packaging: ignore everything at the top level")
if i >= 0:
    open(".gitignore", "w").write(s[:i].rstrip("\n") + "\n")
PY
		git add -A -f .
		git commit -q -m "Import Debian linux-source-7.2 $ver (Linux $kv)" \
			-m "Debian's packaging rule that ignores every top-level path is dropped
from .gitignore, so new files in the tree are seen by git."
		git tag pristine
	)
	rm -rf "$KSRC" "$dl/x" && mv "$KSRC.tmp" "$KSRC"
	log "imported Linux $kv into $KSRC ($(since "$t0") s)"
fi

cd "$KSRC"
kv=$(make -s kernelversion)
want=$(series_id)
have=$(git config bpfsig.series || true)
applied=$(git config bpfsig.head || git rev-parse pristine)
if [ "$want" != "$have" ] || [ "$(git rev-parse HEAD)" != "$applied" ]; then
	if [ "$(git rev-parse HEAD)" != "$applied" ] && [ "${BPFSIG_RESET:-0}" != 1 ]; then
		die "$KSRC has commits not in patches/ (run scripts/export-patches.sh, or BPFSIG_RESET=1 to drop them)"
	fi
	git am --abort >/dev/null 2>&1 || true
	git reset -q --hard pristine
	for p in "$BPFSIG_ROOT"/patches/*.patch; do
		[ -e "$p" ] || continue
		git am -q --keep-cr "$p" >/dev/null 2>"$BPFSIG_CACHE/am.err" || {
			git am --abort >/dev/null 2>&1 || true
			git reset -q --hard pristine
			# Nothing of ours is left in the tree: the next run re-applies.
			git config bpfsig.head "$(git rev-parse pristine)"
			git config --unset bpfsig.series || true
			die "patch does not apply: $(basename "$p"): $(grep -m3 -E 'error|failed' "$BPFSIG_CACHE/am.err")"
		}
	done
	git config bpfsig.series "$want"
	git config bpfsig.head "$(git rev-parse HEAD)"
	log "applied $(git rev-list --count pristine..HEAD) patches on Linux $kv"
fi

link_sources
log "kernel tree ready: Linux $kv, $(git rev-list --count pristine..HEAD) patches, kernel/bpf/bpfsig -> $BPFSIG_ROOT"
