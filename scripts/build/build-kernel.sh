#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Configure (tinyconfig + qemu/bpfsig.config) and build the kernel out of tree
# in the cache. Incremental: the config is regenerated only when the fragment
# changed, and make rebuilds only what changed. Refuses to build a tree that
# is not exactly pristine + patches/: what is tested is what is shipped.
. "$(dirname "$0")/../lib.sh"

t0=$(date +%s)
[ -d "$KSRC/.git" ] || die "no kernel tree at $KSRC (run scripts/build/fetch-kernel.sh)"
mkdir -p "$KBUILD"
tree_is_series || die "refusing to build: $KSRC is not pristine + patches/ (scripts/series/export-patches.sh exports your tree commits; scripts/build/fetch-kernel.sh re-applies the series)"
log_file=$BPFSIG_CACHE/$(basename "$KBUILD").log

# The fragments' lines, a later fragment's line for a symbol replacing an
# earlier one (as merge_config.sh does).
effective_fragment() {
	grep -hE '^(CONFIG_|# CONFIG_)' "${FRAGMENTS[@]}" |
		awk '{ s = $1 == "#" ? $2 : substr($0, 1, index($0, "=") - 1); if (!(s in v)) o[n++] = s; v[s] = $0 }
		     END { for (i = 0; i < n; i++) print v[o[i]] }'
}

# Every line of the fragments must survive olddefconfig; name the ones that did not.
check_config() {
	local bad=0 l s
	while read -r l; do
		case "$l" in
		"# CONFIG_"*)
			s=${l#\# }; s=${s%% *}
			if grep -q "^$s=" "$KBUILD/.config"; then
				log "config: $s should be unset but is $(grep "^$s=" "$KBUILD/.config")"; bad=1
			fi ;;
		CONFIG_*)
			if ! grep -qxF "$l" "$KBUILD/.config"; then
				log "config: requested $l, got '$(grep -E "^(# )?${l%%=*}[= ]" "$KBUILD/.config" || echo "<absent>")'"; bad=1
			fi ;;
		esac
	done < <(if [ -n "${BPFSIG_VARIANT:-}" ]; then FRAGMENTS=("${FRAGMENTS[-2]}"); fi; effective_fragment)
	return $bad
}

# The test certificate goes into the builtin trusted keyring: IPE loads
# only policies signed by a trusted key, and bpf_keyring=BUILTIN needs a
# key there. Its path is this machine's, so it is a fragment of its own.
mkdir -p "$BPFSIG_CACHE/certs"
cmp -s "$TEST_CERT" "$BPFSIG_CACHE/certs/bpfsig-test.pem" || cp "$TEST_CERT" "$BPFSIG_CACHE/certs/bpfsig-test.pem"
printf 'CONFIG_SYSTEM_TRUSTED_KEYS="%s"\n' "$BPFSIG_CACHE/certs/bpfsig-test.pem" >"$BPFSIG_CACHE/certs/keys.config"
FRAGMENTS+=("$BPFSIG_CACHE/certs/keys.config")

cfg_id=$( (cat "${FRAGMENTS[@]}"; git -C "$KSRC" rev-parse HEAD) | sha256sum | cut -c1-16)
# A variant whose configuration changed (or its first build) starts from a
# copy of the main build when that one is current: only what depends on the
# variant's own options is rebuilt (make follows the config).
main_build=$BPFSIG_CACHE/build
if [ -n "${BPFSIG_VARIANT:-}" ] && [ "$(cat "$KBUILD/.bpfsig-config-id" 2>/dev/null)" != "$cfg_id" ] &&
	[ -f "$main_build/vmlinux" ] &&
	[ "$(cat "$main_build/.bpfsig-config-id" 2>/dev/null)" = "$( (cat "${FRAGMENTS[0]}" "${FRAGMENTS[-1]}"
		git -C "$KSRC" rev-parse HEAD) | sha256sum | cut -c1-16)" ]; then
	log "seeding $KBUILD from $main_build"
	rm -rf "$KBUILD" && mkdir -p "$KBUILD"
	cp -a "$main_build/." "$KBUILD/"
	rm -f "$KBUILD/.bpfsig-config-id"
fi

if [ ! -f "$KBUILD/.config" ] || [ "$(cat "$KBUILD/.bpfsig-config-id" 2>/dev/null)" != "$cfg_id" ]; then
	log "configuring: tinyconfig + ${FRAGMENTS[*]#"$BPFSIG_ROOT/"}"
	{
		kmake tinyconfig &&
			"$KSRC/scripts/kconfig/merge_config.sh" -m -O "$KBUILD" "$KBUILD/.config" "${FRAGMENTS[@]}" &&
			kmake olddefconfig
	} >"$log_file" 2>&1 || { tail -20 "$log_file"; die "kernel configuration failed (log: $log_file)"; }
	check_config || die "olddefconfig dropped options of the config fragments (see above)"
	echo "$cfg_id" >"$KBUILD/.bpfsig-config-id"
fi
grep -q '^CONFIG_PAHOLE_VERSION=1[3-9][0-9]$' "$KBUILD/.config" ||
	die "the build does not use pahole >= 1.30 ($(grep PAHOLE_VERSION "$KBUILD/.config")); KF_IMPLICIT_ARGS kfuncs would break"

# Progress: build steps so far against the count of the last full build.
est_file=$KBUILD.steps
est=$(cat "$est_file" 2>/dev/null || echo 3300)
log "building bzImage (make -j$(nproc), log: $log_file)"
kmake -j"$(nproc)" bzImage >"$log_file" 2>&1 &
make_pid=$!
while kill -0 "$make_pid" 2>/dev/null; do
	for _ in $(seq 30); do kill -0 "$make_pid" 2>/dev/null && sleep 1; done
	kill -0 "$make_pid" 2>/dev/null || break
	n=$(grep -cE '^  [A-Z]' "$log_file" || true)
	log "  building: $n steps (~$((n * 100 / est))% of a full build), $(since "$t0") s"
done
if ! wait "$make_pid"; then
	grep -E -B2 -A8 'error(\[E[0-9]+\])?:|Error [0-9]+' "$log_file" | head -60
	die "kernel build failed (full log: $log_file)"
fi
# Our own code builds warning-free (rustc and C alike); anything else is the tree's.
if grep -A4 -E '^(warning|.*: warning:)' "$log_file" | grep -q -E 'bpf/bpfsig|bpfsig\.[ch]'; then
	grep -B2 -A12 -E '^(warning|.*: warning:)' "$log_file" | head -40
	die "warnings in bpfsig's code (log: $log_file)"
fi
n=$(grep -cE '^  [A-Z]' "$log_file" || true)
((n > est / 2)) && echo "$n" >"$est_file"
log "kernel built in $(since "$t0") s ($n steps): $KBUILD/arch/x86/boot/bzImage ($(kmake -s kernelrelease 2>/dev/null))"
