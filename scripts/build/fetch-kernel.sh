#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch Debian's linux-source-7.2 through a private apt configuration, import it
# into a git tree in the cache (first commit = pristine) and apply patches/
# with git am. The series is self-contained: nothing of this checkout is
# linked into the tree, and what is built is exactly pristine + patches/.
#
# Re-runs are cheap: when the tree already is pristine + patches/ (same tree
# object, nothing modified) no file is touched, so nothing is rebuilt.
# Otherwise the series is re-applied from pristine, but never over a
# developer's work in the tree (export it first with scripts/series/export-patches.sh,
# or set BPFSIG_RESET=1 to drop it). Under CI=true a tree that is anything
# else is reset to pristine and the series re-applied, without asking.
. "$(dirname "$0")/../lib.sh"

t0=$(date +%s)
mkdir -p "$BPFSIG_CACHE"

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
# Trees made before the series carried the crate linked a checkout in.
if [ -L kernel/bpf/bpfsig ]; then
	rm -f kernel/bpf/bpfsig
	sed -i '\#^/kernel/bpf/bpfsig$#d' .git/info/exclude
fi
if tree_is_series 2>/dev/null; then
	log "kernel tree ready: Linux $kv + $(git rev-list --count pristine..HEAD) patches (already applied, nothing touched)"
	exit 0
fi
applied=$(git config bpfsig.head || git rev-parse pristine)
if [ "${CI:-}" != true ] && [ "${BPFSIG_RESET:-0}" != 1 ]; then
	if [ "$(git rev-parse HEAD)" != "$applied" ]; then
		die "$KSRC has commits not in patches/ (run scripts/series/export-patches.sh, or BPFSIG_RESET=1 to drop them)"
	fi
	if [ -n "$(git status --porcelain)" ]; then
		git status --short | head -5 >&2
		die "$KSRC has uncommitted edits (commit and export them, or BPFSIG_RESET=1 to drop them)"
	fi
fi
git am --abort >/dev/null 2>&1 || true
git reset -q --hard pristine
git clean -q -fd
for p in "$BPFSIG_ROOT"/patches/[0-9]*.patch; do
	case "$p" in */0000-*) continue ;; esac
	git am -q --keep-cr "$p" >/dev/null 2>"$BPFSIG_CACHE/am.err" || {
		git am --abort >/dev/null 2>&1 || true
		git reset -q --hard pristine
		# Nothing of ours is left in the tree: the next run re-applies.
		git config bpfsig.head "$(git rev-parse pristine)"
		die "patch does not apply: $(basename "$p"): $(grep -m3 -E 'error|failed' "$BPFSIG_CACHE/am.err")"
	}
done
git config bpfsig.head "$(git rev-parse HEAD)"
tree_is_series || die "the tree is not pristine + patches/ after git am (see above)"
log "kernel tree ready: Linux $kv + $(git rev-list --count pristine..HEAD) patches applied with git am ($(since "$t0") s)"
