#!/usr/bin/env bash
# Make (once) and print the path of a cached Debian root for tests and prebuilds.
#
#   scripts/debootstrap-root.sh SUITE NAME [PACKAGE...]
#
# SUITE is a Debian suite (bullseye = Debian 11, glibc 2.31; bookworm = Debian 12), NAME the
# cache entry (e.g. bullseye-build, bookworm-bare), PACKAGEs are added with --include. The root is
# made with `debootstrap --variant=minbase` under $URING_PROBE_ROOTS (default
# /var/cache/uring-probe/roots), and reused while the same SUITE and PACKAGEs were asked for (a
# stamp file records them); a half-made root is never reused. Prints the root's path on stdout.
# Needs root and debootstrap (apt-get install debootstrap); Debian's archive must be reachable.
set -euo pipefail

suite="${1:?usage: debootstrap-root.sh SUITE NAME [PACKAGE...]}"
name="${2:?usage: debootstrap-root.sh SUITE NAME [PACKAGE...]}"
shift 2
packages=("$@")

cache="${URING_PROBE_ROOTS:-/var/cache/uring-probe/roots}"
root="$cache/$name"
want="suite=$suite packages=${packages[*]:-}"
stamp="$root/.uring-probe-root"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$root"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then echo "debootstrap-root: making $root needs root" >&2; exit 1; fi
command -v debootstrap >/dev/null || { echo "debootstrap-root: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }

mkdir -p "$cache"
tmp="$(mktemp -d "$cache/.$name.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
include=()
if [ "${#packages[@]}" -gt 0 ]; then include=(--include="$(IFS=,; echo "${packages[*]}")"); fi
start=$(date +%s)
mirror="${URING_PROBE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
if ! debootstrap --variant=minbase "${include[@]}" "$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1; then
  echo "debootstrap-root: debootstrap $suite failed; last lines of its log:" >&2
  tail -n 20 "$tmp.log" >&2
  rm -f "$tmp.log"
  exit 1
fi
rm -f "$tmp.log"
# Trim what a test root does not need (apt lists, docs, caches), keep it small on disk.
rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"* "$tmp/usr/share/doc" "$tmp/usr/share/man" 2>/dev/null || true
echo "$want" > "$tmp/.uring-probe-root"
rm -rf "$root"
mv "$tmp" "$root"
trap - EXIT
echo "debootstrap-root: made $root ($suite${packages[*]:+ + ${packages[*]}}) in $(( $(date +%s) - start )) s" >&2
echo "$root"
