#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Is the series bisectable and does it build in every configuration?
#
#   scripts/series/check-series.sh [steps] [configs] [docs]   (default: all)
#
# steps:   apply patches/ one by one with git am to a scratch worktree of
#          pristine and build each step with the project's config
#          (tinyconfig + qemu/bpfsig.config), incrementally in one build dir;
#          from the patch that adds CONFIG_BPFSIG_KUNIT_TEST (the kfunc's)
#          on, boot each step's kernel with its KUnit suites as well.
# configs: the whole series with CONFIG_BPFSIG=n, CONFIG_SECURITY=n,
#          CONFIG_RUST=n, and allnoconfig + CONFIG_RUST=y, each in a build
#          dir of its own (kept, so a re-run is incremental).
# docs:    scripts/kernel-doc -Wall over the C files the series touches, and
#          make htmldocs of the Documentation/ directories it touches (Sphinx
#          in a venv of its own), on the series and on pristine: the series
#          must add no warning.
#
# Not part of the test command (a first run builds five kernels); run it
# before sending the series. Prints one line per build with its time and
# exits non-zero if any build failed or warned in code the series touches.
. "$(dirname "$0")/../lib.sh"

want=("$@")
((${#want[@]})) || want=(steps configs docs)
t0=$(date +%s)
[ -d "$KSRC/.git" ] || die "no kernel git tree at $KSRC (run scripts/build/fetch-kernel.sh)"
CHECK=$BPFSIG_CACHE/check
WT=$CHECK/linux
mkdir -p "$CHECK"
if [ ! -d "$WT/.git" ] && [ ! -f "$WT/.git" ]; then
	git -C "$KSRC" worktree prune
	git -C "$KSRC" worktree add -q --detach "$WT" pristine
fi
KSRC=$WT
mapfile -t series < <(ls "$BPFSIG_ROOT"/patches/[0-9]*.patch | grep -v '/0000-')
# Files the series touches: warnings there are ours.
ours=$(cat "${series[@]}" | sed -n 's#^diff --git a/\(\S*\) b/.*#\1#p' | sort -u | sed 's/\./\\./g' | paste -sd'|')

results=()
failed=0
# record NAME START WHY: one line of the summary, logged as it comes.
record() {
	results+=("$(printf '%-58s %5s s  %s' "$1" "$(since "$2")" "$3")")
	log "${results[-1]}"
}

# apply_series: the whole series in the scratch worktree, whatever the steps
# did (a no-op when it is already there).
apply_series() {
	local p
	git -C "$WT" am --abort >/dev/null 2>&1 || true
	[ "$(git -C "$WT" rev-parse 'HEAD^{tree}')" = "$(KSRC=$WT series_tree)" ] && return
	git -C "$WT" reset -q --hard pristine
	for p in "${series[@]}"; do git -C "$WT" am -q --keep-cr "$p" >/dev/null || die "$(basename "$p") does not apply"; done
}

# build NAME BUILD_DIR: build bzImage there, record the outcome.
build() {
	local name=$1 log=$2/build.log s=$(date +%s) rc=0 why=ok
	KBUILD=$2 kmake -j"$(nproc)" bzImage >"$log" 2>&1 || rc=$?
	if ((rc)); then
		why="FAILED: $(grep -m1 -E 'error(\[E[0-9]+\])?:|undefined' "$log" || tail -1 "$log")"
		failed=1
	elif grep -A4 -E '^(warning|error)|: (warning|error):' "$log" | grep -qE "$ours"; then
		why="WARNINGS: $(grep -A4 -E '^(warning|error)|: (warning|error):' "$log" | grep -m1 -E "$ours")"
		failed=1
	fi
	record "$name" "$s" "$why"
}

# kunit NAME BUILD_DIR: boot the bzImage built there with its built-in
# KUnit suites (scripts/vm/run-kunit.sh), record the outcome.
kunit() {
	local name=$1 log=$2/kunit.log s=$(date +%s) why
	if BPFSIG_KBUILD=$2 BPFSIG_CACHE=$CHECK/kunit bash "$BPFSIG_ROOT/scripts/vm/run-kunit.sh" >"$log" 2>&1; then
		why="ok, $(grep -a -m1 '^kunit:' "$log")"
	else
		why="FAILED: $(tail -1 "$log")"
		failed=1
	fi
	record "$name" "$s" "$why"
}

# configure BUILD_DIR BASE FRAGMENT...: BASE config with the fragments merged;
# prints the CONFIG_ lines of the last fragment that olddefconfig dropped.
configure() {
	local dir=$1 base=$2 l
	shift 2
	mkdir -p "$dir"
	KBUILD=$dir kmake "$base" >/dev/null
	"$KSRC/scripts/kconfig/merge_config.sh" -m -O "$dir" "$dir/.config" "$@" >/dev/null
	KBUILD=$dir kmake olddefconfig >/dev/null
	{ grep -hE '^CONFIG_' "${@: -1}" || true; } | while read -r l; do
		grep -qxF "$l" "$dir/.config" || echo "$l"
	done
}

if [[ " ${want[*]} " == *" steps "* ]]; then
	log "bisect: ${#series[@]} patches, one build each ($CHECK/build-steps)"
	git -C "$WT" am --abort >/dev/null 2>&1 || true
	git -C "$WT" reset -q --hard pristine
	dir=$CHECK/build-steps
	for p in "${series[@]}"; do
		git -C "$WT" am -q --keep-cr "$p" >/dev/null || die "$(basename "$p") does not apply"
		# The project's config at this step: options of later patches
		# (CONFIG_BPFSIG before patch 7, CONFIG_IPE_PROP_BPF_SIGNATURE
		# before patch 23) do not exist yet and are not missed.
		lost=$(configure "$dir" tinyconfig "$BPFSIG_ROOT/qemu/bpfsig.config" | while read -r l; do
			sym=${l%%=*}
			if git -C "$WT" grep -qE "^(menu)?config ${sym#CONFIG_}\$" -- '*Kconfig*'; then echo "$l"; fi
		done)
		[ -z "$lost" ] || die "the project's config did not survive olddefconfig at $(basename "$p"): $lost"
		build "step $(basename "$p" .patch)" "$dir"
		if [[ ${results[-1]} == *"  ok" ]] &&
			grep -q '^config BPFSIG_KUNIT_TEST$' "$WT/kernel/bpf/Kconfig"; then
			kunit "  kunit $(basename "$p" .patch | cut -c1-4)" "$dir"
		fi
	done
fi

if [[ " ${want[*]} " == *" configs "* ]]; then
	apply_series
	frag=$CHECK/fragments
	mkdir -p "$frag"
	printf '# CONFIG_BPFSIG is not set\n' >"$frag/bpfsig-n"
	printf '# CONFIG_SECURITY is not set\n' >"$frag/security-n"
	printf '# CONFIG_RUST is not set\n' >"$frag/rust-n"
	# allnoconfig answers "64-bit kernel" with n too; Rust needs x86_64.
	printf 'CONFIG_64BIT=y\nCONFIG_RUST=y\n' >"$frag/rust-y"
	variants=(bpfsig-n security-n rust-n)
	[ -n "${BPFSIG_CHECK_VARIANTS+x}" ] && read -r -a variants <<<"$BPFSIG_CHECK_VARIANTS"
	for v in "${variants[@]}"; do
		dir=$CHECK/build-$v
		configure "$dir" tinyconfig "$BPFSIG_ROOT/qemu/bpfsig.config" "$frag/$v" >/dev/null
		# A "# CONFIG_X is not set" line: X must be off.
		sym=$(sed -n 's/^# \(CONFIG_[A-Z_]*\) is not set/\1/p' "$frag/$v")
		grep -q "^$sym=y" "$dir/.config" && die "$v: $sym is still on after olddefconfig"
		build "config: project + $v" "$dir"
	done
	dir=$CHECK/build-allnoconfig-rust
	lost=$(configure "$dir" allnoconfig "$frag/rust-y")
	[ -z "$lost" ] || die "allnoconfig + 64BIT + RUST: $lost did not survive olddefconfig"
	build "config: allnoconfig + 64BIT=y RUST=y" "$dir"
fi

if [[ " ${want[*]} " == *" docs "* ]]; then
	apply_series
	P=$CHECK/linux-pristine
	[ -e "$P/.git" ] || git -C "$WT" worktree add -q --detach "$P" pristine
	git -C "$P" reset -q --hard pristine
	docvenv=$CHECK/docs-venv
	if ! "$docvenv/bin/sphinx-build" --version 2>/dev/null | grep -qx 'sphinx-build 9.0.4'; then
		log "docs: installing Sphinx 9.0.4 in $docvenv"
		python3 -m venv --clear "$docvenv" && "$docvenv/bin/pip" install -q \
			Sphinx==9.0.4 alabaster pyyaml || die "pip install Sphinx failed"
	fi
	touched=$(git -C "$WT" diff --name-only pristine HEAD)
	cfiles=$(grep -E '\.[ch]$' <<<"$touched" | grep -v '^tools/' || true)
	sdirs=$(grep '^Documentation/.*\.rst$' <<<"$touched" | sed 's#^Documentation/##; s#/[^/]*$##' | sort -u | paste -sd' ')
	# docwarn TREE: the tree's warnings, without line numbers or its path.
	docwarn() {
		local t=$1 f
		(cd "$t" && for f in $cfiles; do
			[ -f "$f" ] && python3 scripts/kernel-doc -none -Wall "$f" 2>&1
		done
		PATH=$docvenv/bin:$PATH make -s O="$CHECK/docs-out/$(basename "$t")" \
			SPHINXDIRS="$sdirs" htmldocs 2>&1 | grep -E 'WARNING|ERROR' || true) |
			sed -E "s#$t/##g; s#:[0-9]+([: ])#\1#g" | sort -u
	}
	s=$(date +%s)
	docwarn "$P" >"$CHECK/docs-pristine.warn"
	docwarn "$WT" >"$CHECK/docs-series.warn"
	new=$(comm -13 "$CHECK/docs-pristine.warn" "$CHECK/docs-series.warn")
	why="ok, $(wc -l <"$CHECK/docs-series.warn") warnings, all in pristine too"
	if [ -n "$new" ]; then
		why="NEW WARNINGS: $(head -1 <<<"$new")"
		failed=1
	fi
	record "docs: kernel-doc ($(wc -w <<<"$cfiles") files), htmldocs ($sdirs)" "$s" "$why"
fi

log "check-series in $(since "$t0") s:"
printf '  %s\n' "${results[@]}" >&2
((failed == 0)) || die "some checks failed (logs: $CHECK/build-*/build.log, $CHECK/docs-*.warn)"
