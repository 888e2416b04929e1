#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Rebase the kernel tree's series onto pristine (folding fixup! commits),
# keeping the timestamps of every file whose final content does not change,
# so that rewording or fixing one commit does not rebuild the whole kernel.
#
#   tree-rebase.sh [SEQUENCE_EDITOR]    default: accept the autosquash todo
# e.g.  tree-rebase.sh "sed -i '/<sha>/a exec git commit -q --amend -s -F msg'"
. "$(dirname "$0")/../lib.sh"

cd "$KSRC"
[ -z "$(git status --porcelain)" ] || die "uncommitted changes in $KSRC: commit or stash them first"
declare -A blob mtime
for f in $(git diff --name-only pristine HEAD); do
	[ -f "$f" ] || continue
	blob[$f]=$(git rev-parse "HEAD:$f")
	mtime[$f]=$(stat -c %Y "$f")
done
GIT_SEQUENCE_EDITOR=${1:-true} git rebase -q -i --autosquash pristine >/dev/null ||
	die "rebase failed in $KSRC (resolve it there, or git rebase --abort)"
n=0
for f in "${!blob[@]}"; do
	if [ -f "$f" ] && [ "$(git rev-parse "HEAD:$f" 2>/dev/null)" = "${blob[$f]}" ]; then
		touch -m -d "@${mtime[$f]}" "$f"
		n=$((n + 1))
	fi
done
log "rebased $(git rev-list --count pristine..HEAD) commits; $n unchanged files keep their timestamps"
