#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Regenerate patches/ from the kernel git tree in the cache. Never hand-edit
# the .patch files.
#
# C changes are made in the tree (git commit, git rebase -i pristine). The
# in-kernel Rust and the crate's Makefile are edited in this repository: the
# export copies them (scripts/series.py map) into kernel/bpf/bpfsig/ and
# folds them into the one commit that adds that directory, then writes the
# series with git format-patch and the cover letter from
# scripts/cover-letter.txt. Files of later commits whose content the fold
# did not change keep their timestamps, so the next build stays incremental.
. "$(dirname "$0")/lib.sh"

[ -d "$KSRC/.git" ] || die "no kernel git tree at $KSRC (run scripts/fetch-kernel.sh)"
cd "$KSRC"
crate_dir=kernel/bpf/bpfsig
# Edits in the crate directory are overwritten from the repository below.
[ -z "$(git status --porcelain | grep -v " $crate_dir/")" ] || die "uncommitted changes in $KSRC: commit them first"
crate=$(git log --format=%H --diff-filter=A pristine..HEAD -- "$crate_dir/Makefile")
[ -n "$crate" ] || die "no commit on top of pristine adds $crate_dir/Makefile (the Rust crate patch)"
others=$(git log --format='%H %h %s' pristine..HEAD -- "$crate_dir" | grep -v "^$crate " | cut -d' ' -f2- || true)
[ -z "$others" ] || die "only the crate commit may touch $crate_dir; also: $others"

# Copy the repository's sources into the tree.
mapfile -t map < <(python3 "$BPFSIG_ROOT/scripts/series.py" map "$BPFSIG_ROOT")
git rm -q -r --cached "$crate_dir" >/dev/null
rm -rf "$crate_dir" && mkdir -p "$crate_dir"
for line in "${map[@]}"; do
	cp "$BPFSIG_ROOT/${line%%$'\t'*}" "${line#*$'\t'}"
done
git add "$crate_dir"

if [ -n "$(git status --porcelain)" ]; then
	log "folding the repository's in-kernel sources into $(git log -1 --format=%s "$crate")"
	# Remember the timestamps of what the rebase will rewrite.
	later=$(git diff --name-only "$crate" HEAD)
	declare -A blob mtime
	for f in $later; do
		[ -f "$f" ] || continue
		blob[$f]=$(git rev-parse "HEAD:$f")
		mtime[$f]=$(stat -c %Y "$f")
	done
	git commit -q --fixup="$crate"
	GIT_SEQUENCE_EDITOR=true git rebase -q -i --autosquash pristine >/dev/null ||
		die "rebase failed in $KSRC (resolve it there, or git rebase --abort)"
	for f in "${!blob[@]}"; do
		[ -f "$f" ] && [ "$(git rev-parse "HEAD:$f")" = "${blob[$f]}" ] && touch -m -d "@${mtime[$f]}" "$f"
	done
fi

n=$(git rev-list --count pristine..HEAD)
rm -f "$BPFSIG_ROOT"/patches/*.patch
git -c core.abbrev=12 format-patch -q --no-signature --zero-commit --cover-letter \
	--subject-prefix=PATCH -o "$BPFSIG_ROOT/patches" pristine..HEAD
# The cover letter: the first line of cover-letter.txt is its subject, the
# rest its body, in place of format-patch's placeholders.
# Its date is the last commit's, so that an unchanged series exports unchanged.
python3 - "$BPFSIG_ROOT/patches/0000-cover-letter.patch" "$BPFSIG_ROOT/scripts/cover-letter.txt" \
	"$(git log -1 --format=%aD HEAD)" <<'PY'
import re, sys
path, src, date = sys.argv[1], sys.argv[2], sys.argv[3]
subject, _, body = open(src).read().partition("\n")
text = re.sub(r"^Date: .*$", "Date: " + date, open(path).read(), count=1, flags=re.M)
text = text.replace("*** SUBJECT HERE ***", subject.strip()).replace("*** BLURB HERE ***", body.strip("\n"))
open(path, "w").write(text)
PY
git config bpfsig.head "$(git rev-parse HEAD)"
python3 "$BPFSIG_ROOT/scripts/series.py" check "$BPFSIG_ROOT" "$BPFSIG_ROOT/patches" >/dev/null
log "exported $n patches and a cover letter to patches/"
