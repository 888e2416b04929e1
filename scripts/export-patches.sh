#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Regenerate patches/ from the commits on top of the pristine import in the
# cache's kernel git tree. Edit the kernel there (git commit / rebase -i), then
# run this; never hand-edit the .patch files.
. "$(dirname "$0")/lib.sh"

[ -d "$KSRC/.git" ] || die "no kernel git tree at $KSRC (run scripts/fetch-kernel.sh)"
cd "$KSRC"
[ -z "$(git status --porcelain --untracked-files=no)" ] || die "uncommitted changes in $KSRC: commit them first"
n=$(git rev-list --count pristine..HEAD)
rm -f "$BPFSIG_ROOT"/patches/*.patch
git -c core.abbrev=12 format-patch -q --no-signature --zero-commit --no-numbered \
	--subject-prefix=PATCH -o "$BPFSIG_ROOT/patches" pristine..HEAD
# Record what is applied so fetch-kernel.sh does not re-apply an identical series.
git config bpfsig.series "$(for f in "$BPFSIG_ROOT"/patches/*.patch; do [ -e "$f" ] && cat "$f"; done | sha256sum | cut -c1-16)"
git config bpfsig.head "$(git rev-parse HEAD)"
log "exported $n patches to patches/"
