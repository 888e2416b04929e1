#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Regenerate patches/ from the kernel git tree in the cache. Never hand-edit
# the .patch files.
#
# C changes are made in the tree (git commit, git rebase -i pristine). The
# in-kernel Rust and the crate's Makefile are edited in this repository:
# rust/bpfsig/ is kernel/bpf/bpfsig/ file for file (the top-level Kbuild is
# its Makefile). The export rewrites each commit's kernel/bpf/bpfsig/ to
# what scripts/series/series.py says that commit has (each file in the commit of
# the feature that first calls it, the crate root's mod lines growing with
# them), then writes the series with git format-patch and the cover letter
# from scripts/series/cover-letter.txt. Commits are rebuilt with git's plumbing, so
# nothing conflicts; only files whose content changed are rewritten in the
# work tree, so the next build stays incremental.
. "$(dirname "$0")/../lib.sh"

[ -d "$KSRC/.git" ] || die "no kernel git tree at $KSRC (run scripts/build/fetch-kernel.sh)"
cd "$KSRC"
crate_dir=kernel/bpf/bpfsig
[ -z "$(git status --porcelain)" ] || die "uncommitted changes in $KSRC: commit them first (the crate is edited in the repository)"

series() { python3 "$BPFSIG_ROOT/scripts/series/series.py" "$@"; }
series map "$BPFSIG_ROOT" >/dev/null
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export GIT_INDEX_FILE=$scratch/index
parent=$(git rev-parse pristine)
step=""
for c in $(git rev-list --reverse pristine..HEAD); do
	subject=$(git log -1 --format=%s "$c")
	rm -rf "$scratch/crate" && mkdir -p "$scratch/crate"
	rc=0
	series step "$BPFSIG_ROOT" "$subject" "$scratch/crate" || rc=$?
	if ((rc == 0)); then
		step=$subject
	elif ((rc == 3)) && [ -n "$step" ]; then
		series step "$BPFSIG_ROOT" "$step" "$scratch/crate"
	elif ((rc != 3)); then
		die "series.py step failed for \"$subject\""
	fi
	git read-tree "$c"
	git rm -r -q -f --cached --ignore-unmatch "$crate_dir"
	while IFS= read -r f; do
		git update-index --add --cacheinfo "100644,$(git hash-object -w "$scratch/crate/$f"),$f"
	done < <(cd "$scratch/crate" && find . -type f -printf '%P\n' | sort)
	tree=$(git write-tree)
	if [ "$tree" = "$(git rev-parse "$c^{tree}")" ] && [ "$parent" = "$(git rev-parse "$c^")" ]; then
		parent=$c
		continue
	fi
	# The commit again, with the crate as the repository has it there.
	{ IFS= read -r an; IFS= read -r ae; IFS= read -r ad; IFS= read -r cn; IFS= read -r ce; IFS= read -r cd; } \
		< <(git log -1 --date=raw --format='%an%n%ae%n%ad%n%cn%n%ce%n%cd' "$c")
	parent=$(git cat-file commit "$c" | sed '1,/^$/d' |
		GIT_AUTHOR_NAME=$an GIT_AUTHOR_EMAIL=$ae GIT_AUTHOR_DATE=$ad \
		GIT_COMMITTER_NAME=$cn GIT_COMMITTER_EMAIL=$ce GIT_COMMITTER_DATE=$cd \
		git commit-tree "$tree" -p "$parent")
done
unset GIT_INDEX_FILE
if [ "$parent" != "$(git rev-parse HEAD)" ]; then
	log "the crate's files written into their commits"
	git reset -q --keep "$parent"
fi

n=$(git rev-list --count pristine..HEAD)
rm -f "$BPFSIG_ROOT"/patches/*.patch
git -c core.abbrev=12 format-patch -q --no-signature --zero-commit --cover-letter \
	--subject-prefix=PATCH -o "$BPFSIG_ROOT/patches" pristine..HEAD
# The cover letter: the first line of cover-letter.txt is its subject, the
# rest its body, in place of format-patch's placeholders.
# Its date is the last commit's, so that an unchanged series exports unchanged.
python3 - "$BPFSIG_ROOT/patches/0000-cover-letter.patch" "$BPFSIG_ROOT/scripts/series/cover-letter.txt" \
	"$(git log -1 --format=%aD HEAD)" <<'PY'
import re, sys
path, src, date = sys.argv[1], sys.argv[2], sys.argv[3]
subject, _, body = open(src).read().partition("\n")
text = re.sub(r"^Date: .*$", "Date: " + date, open(path).read(), count=1, flags=re.M)
text = text.replace("*** SUBJECT HERE ***", subject.strip()).replace("*** BLURB HERE ***", body.strip("\n"))
open(path, "w").write(text)
PY
git config bpfsig.head "$(git rev-parse HEAD)"
python3 "$BPFSIG_ROOT/scripts/series/series.py" check "$BPFSIG_ROOT" "$BPFSIG_ROOT/patches" >/dev/null
log "exported $n patches and a cover letter to patches/"
