#!/usr/bin/env bash
# npm run test:kernels: the probe and the native/CLI tests on Debian 12's own kernels, under qemu.
#
#   scripts/test-kernels.sh
#
# For each kernel series (6.1: bookworm's linux-image-6.1.0-N-amd64; 6.12: bookworm's
# linux-image-6.12.N+deb12-amd64, or bookworm-backports' when apt has no 6.12 here):
#   - fetch the Debian package with `apt-get download` into $URING_PROBE_KERNEL_CACHE (default
#     /var/cache/uring-probe/kernels; reused when present) and unpack it with dpkg-deb -x;
#   - build an initramfs: busybox-static (fetched the same way, never installed), the 9p, virtio
#     and overlay modules with their modinfo dependencies (xz-decompressed on the host), and
#     scripts/kernels/init.sh;
#   - boot it with qemu-system-x86_64 (TCG: KVM does not work here; -smp 2, 3 GiB), the host's
#     root shared read-only over virtio-9p under a tmpfs overlay, and a results directory shared
#     read-write; the guest runs scripts/kernels/guest-run.sh from a snapshot of this tree with the
#     host's node: `check --json`, then each test file with the TAP reporter, and powers off;
#   - check the report against what that kernel should say (scripts/kernels/check-report.mjs).
# Then prints a matrix (one row per kernel) and exits non-zero when a test failed, a report
# expectation failed, or a VM did not boot or timed out.
#
# Environment:
#   URING_PROBE_KERNELS        kernel series to run, e.g. "6.1" or "6.1 6.12" (default: both)
#   URING_PROBE_KERNEL_TESTS   test files: names without .test.js (found under dist/test) or paths
#                              relative to the tree; default: native probes check kernel-says-no bench
#   URING_PROBE_KERNEL_TIMEOUT seconds per VM, boot to power-off (default 900)
#   URING_PROBE_KERNEL_FILE_TIMEOUT seconds per test file inside the guest (default 420)
#   URING_PROBE_KERNEL_MEM     guest memory in MiB (default 3072)
#   URING_PROBE_KERNEL_CACHE   where .debs and unpacked kernels are kept
#   URING_PROBE_KERNELS_OUT    where results are left (default: a new directory under $TMPDIR)
#   URING_PROBE_KERNEL_BACKPORTS=1  take the packages from bookworm-backports even when the
#                              host's apt has the series
#   URING_PROBE_KERNELS_TREE   the tree to snapshot (default: this checkout); it needs
#                              node_modules and the built addon, dist/ is rebuilt (build:ts)
# Needs root only to install qemu-system-x86 when qemu-system-x86_64 is missing (and for
# `apt-get update` when apt has never been updated). Installs nothing else on the host.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${URING_PROBE_KERNEL_CACHE:-/var/cache/uring-probe/kernels}"
series_list="${URING_PROBE_KERNELS:-6.1 6.12}"
series_list="${series_list//,/ }"
# The native and CLI test files: about 5.5 minutes per kernel under TCG. cli-misc (shell
# completion, ~1.5 minutes) does not depend on the kernel: add it with URING_PROBE_KERNEL_TESTS.
default_tests="native probes check kernel-says-no bench"
test_list="${URING_PROBE_KERNEL_TESTS:-$default_tests}"
test_list="${test_list//,/ }"
vm_timeout="${URING_PROBE_KERNEL_TIMEOUT:-900}"
file_timeout="${URING_PROBE_KERNEL_FILE_TIMEOUT:-420}"
mem="${URING_PROBE_KERNEL_MEM:-3072}"
export DEBIAN_FRONTEND=noninteractive

say() { echo "test-kernels: $*"; }
count_lines() { grep -cE "$1" "$2" || true; }
die() { echo "test-kernels: $*" >&2; exit 2; }

# ---- tools -------------------------------------------------------------------------------------
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || die "qemu-system-x86_64 is missing and installing qemu-system-x86 needs root"
  say "installing qemu-system-x86"
  apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null; }
fi
for tool in qemu-system-x86_64 apt-get apt-cache dpkg-deb mkfs.ext4 xz gzip timeout node npm; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing"
done
[ "$(uname -m)" = x86_64 ] || die "needs an x86_64 host (the kernels are Debian's amd64 ones)"
mkdir -p "$cache"

# ---- apt: which package, and fetching it -------------------------------------------------------
apt_opts=()          # extra options for a private apt configuration (bookworm-backports)
apt_updated=0
private_apt_ready=0

private_apt() {
  # A private apt state with bookworm-backports only; the host's sources and lists are untouched.
  local dir="$cache/apt"
  apt_opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
            -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir" -o "Dir::Cache::pkgcache="
            -o "Dir::Cache::srcpkgcache=" -o "APT::Sandbox::User=root")
  [ "$private_apt_ready" -eq 1 ] && return 0
  mkdir -p "$dir/lists/partial" "$dir/archives/partial"
  echo "deb ${URING_PROBE_DEBIAN_MIRROR:-http://deb.debian.org/debian} bookworm-backports main" > "$dir/sources.list"
  say "looking in bookworm-backports (private apt lists in $dir)"
  apt-get "${apt_opts[@]}" update -qq >/dev/null 2>&1 || say "apt-get update of bookworm-backports failed"
  private_apt_ready=1
}

# Newest linux-image package name of a series that apt can fetch (empty when none).
apt_pick() {
  local series="$1" regex="$2" name
  name="$(apt-cache "${apt_opts[@]}" pkgnames "linux-image-$series." 2>/dev/null | grep -E "$regex" | sort -V | tail -n 1 || true)"
  if [ -n "$name" ] && apt-cache "${apt_opts[@]}" show --no-all-versions "$name" 2>/dev/null | grep -q '^Version:'; then
    echo "$name"
  fi
}

# resolve SERIES -> sets pkg (package name) and deb (its file in the cache).
resolve() {
  local series="$1" regex found=""
  local s="${series//./\\.}"
  # 6.1: linux-image-6.1.0-N-amd64; later series: linux-image-6.12.N+deb12-amd64 (or +bpo)
  regex="^linux-image-$s(\.0-[0-9]+|\.[0-9]+\+(deb[0-9]+|bpo))-amd64$"
  local backports="${URING_PROBE_KERNEL_BACKPORTS:-0}"
  if [ "$backports" = 1 ]; then private_apt; found="$(apt_pick "$series" "$regex")"; fi
  if [ -z "$found" ]; then apt_opts=(); found="$(apt_pick "$series" "$regex")"; fi
  if [ -z "$found" ] && [ "$apt_updated" -eq 0 ] && [ "$(id -u)" -eq 0 ]; then
    say "no linux-image-$series.* known to apt; apt-get update"
    apt-get update -qq >/dev/null 2>&1 || true
    apt_updated=1
    found="$(apt_pick "$series" "$regex")"
  fi
  if [ -z "$found" ] && [ "$backports" != 1 ]; then
    say "apt has no linux-image-$series.* here"
    private_apt
    found="$(apt_pick "$series" "$regex")"
  fi
  if [ -n "$found" ]; then
    pkg="$found"
    deb="$(ls -1 "$cache/${pkg}_"*_amd64.deb 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -z "$deb" ]; then
      say "apt-get download $pkg"
      local tmp
      tmp="$(mktemp -d "$cache/.download.XXXXXX")"
      if ! (cd "$tmp" && apt-get "${apt_opts[@]}" -o APT::Sandbox::User=root -qq download "$pkg" >/dev/null); then
        rm -rf "$tmp"
        die "apt-get download $pkg failed"
      fi
      mv "$tmp"/*.deb "$cache/" && rmdir "$tmp"
      deb="$(ls -1 "$cache/${pkg}_"*_amd64.deb | sort -V | tail -n 1)"
    fi
    return 0
  fi
  # Offline: the newest package of the series already in the cache.
  deb="$(ls -1 "$cache"/linux-image-"$series".*_amd64.deb 2>/dev/null | grep -E "/linux-image-$s(\.0-[0-9]+|\.[0-9]+\+(deb[0-9]+|bpo))-amd64_" | sort -V | tail -n 1 || true)"
  [ -n "$deb" ] || die "no linux-image-$series.* package: not in apt (bookworm, bookworm-backports) nor in $cache"
  pkg="$(basename "$deb" | cut -d_ -f1)"
  say "apt has no $series kernel; using the cached $(basename "$deb")"
}

busybox_bin() {
  local dir="$cache/busybox" deb tmp
  if [ ! -x "$dir/busybox" ]; then
    deb="$(ls -1 "$cache"/busybox-static_*_amd64.deb 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -z "$deb" ]; then
      say "apt-get download busybox-static" >&2
      tmp="$(mktemp -d "$cache/.download.XXXXXX")"
      (cd "$tmp" && apt-get -o APT::Sandbox::User=root -qq download busybox-static >/dev/null) || { rm -rf "$tmp"; die "apt-get download busybox-static failed"; }
      mv "$tmp"/*.deb "$cache/" && rmdir "$tmp"
      deb="$(ls -1 "$cache"/busybox-static_*_amd64.deb | sort -V | tail -n 1)"
    fi
    tmp="$(mktemp -d "$cache/.busybox.XXXXXX")"
    dpkg-deb -x "$deb" "$tmp"
    mkdir -p "$dir"
    cp "$tmp/bin/busybox" "$dir/busybox.new" && mv "$dir/busybox.new" "$dir/busybox"
    rm -rf "$tmp"
  fi
  echo "$dir/busybox"
}

# ---- kernel: unpack once, keep vmlinuz and the modules the initramfs loads ---------------------
# The modules the guest needs: virtio PCI transport, 9p over virtio, overlayfs, and virtio-blk
# with ext4 for the tree's image (9p is slow for node_modules' thousands of small files under
# TCG: `uring-probe --version` takes 8-10 s from 9p, a few seconds from ext4). Built-in ones
# (modules.builtin) are skipped; dependencies come from each module's modinfo "depends=".
want_modules="virtio_pci 9pnet_virtio 9p overlay virtio_blk crc32c_generic ext4"

mod_depends() { # FILE -> space-separated dependency names
  case "$1" in
    *.xz) xz -dc "$1" ;;
    *.zst) zstd -dcq "$1" ;;
    *) cat "$1" ;;
  esac | tr '\0' '\n' | grep -a '^depends=' | head -n 1 | cut -d= -f2 | tr ',' ' '
}

prepare_kernel() { # DEB -> sets kdir (vmlinuz, release, modules/*.ko, modules/load)
  local deb="$1" stamp tmp release moddir
  kdir="$cache/unpacked/$(basename "$deb" .deb)"
  stamp="$kdir/.ready"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_modules" ]; then return 0; fi
  tmp="$(mktemp -d "$cache/.unpack.XXXXXX")"
  dpkg-deb -x "$deb" "$tmp"
  release="$(ls -1 "$tmp/boot" | sed -n 's/^vmlinuz-//p' | head -n 1)"
  [ -n "$release" ] || { rm -rf "$tmp"; die "no boot/vmlinuz-* in $(basename "$deb")"; }
  moddir="$tmp/lib/modules/$release"
  declare -A path_of=() done_mod=()
  local f n
  while IFS= read -r f; do
    n="$(basename "$f")"; n="${n%%.ko*}"; n="${n//-/_}"
    path_of[$n]="$f"
  done < <(find "$moddir/kernel" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst')
  declare -A builtin=()
  while IFS= read -r f; do
    n="$(basename "$f" .ko)"; builtin[${n//-/_}]=1
  done < "$moddir/modules.builtin"
  mkdir -p "$tmp/out/modules"
  : > "$tmp/out/modules/load"
  visit() { # depth-first: dependencies first
    local m="${1//-/_}" d
    [ -n "${done_mod[$m]:-}" ] && return 0
    done_mod[$m]=1
    if [ -z "${path_of[$m]:-}" ]; then
      [ -n "${builtin[$m]:-}" ] && return 0
      rm -rf "$tmp"
      die "module $m: neither a file nor built into $release"
    fi
    for d in $(mod_depends "${path_of[$m]}"); do visit "$d"; done
    case "${path_of[$m]}" in
      *.xz) xz -dc "${path_of[$m]}" > "$tmp/out/modules/$m.ko" ;;
      *.zst) zstd -dcq "${path_of[$m]}" > "$tmp/out/modules/$m.ko" ;;
      *) cp "${path_of[$m]}" "$tmp/out/modules/$m.ko" ;;
    esac
    echo "$m" >> "$tmp/out/modules/load"
  }
  for n in $want_modules; do visit "$n"; done
  cp "$tmp/boot/vmlinuz-$release" "$tmp/out/vmlinuz"
  echo "$release" > "$tmp/out/release"
  echo "$want_modules" > "$tmp/out/.ready"
  rm -rf "$kdir"
  mkdir -p "$(dirname "$kdir")"
  mv "$tmp/out" "$kdir"
  rm -rf "$tmp"
}

make_initrd() { # KDIR INIT OUT
  local kdir="$1" init="$2" out="$3" root
  root="$(mktemp -d "$work/initrd.XXXXXX")"
  mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
  cp "$busybox" "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"
  cp -r "$kdir/modules" "$root/modules"
  cp "$init" "$root/init"
  chmod 755 "$root/init" "$root/bin/busybox"
  (cd "$root" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1 > "$out")
  rm -rf "$root"
}

# ---- the tree ----------------------------------------------------------------------------------
base="${TMPDIR:-/tmp}"
work="$(mktemp -d "$base/uring-probe-kernels.XXXXXX")"
out="${URING_PROBE_KERNELS_OUT:-$work}"
mkdir -p "$out"
cleanup() {
  rm -rf "$work/tree" "$work/tree.img" "$work"/initrd* "$work/qemu.rc"
  if [ "$out" != "$work" ]; then rmdir "$work" 2>/dev/null || true; fi
}
trap cleanup EXIT

t_start=$(date +%s)
source_tree="${URING_PROBE_KERNELS_TREE:-$repo}"
say "snapshot of $source_tree in $work/tree"
cp -a "$source_tree/." "$work/tree"
tree="$work/tree"
(cd "$tree" && npm run --silent build:ts) || die "npm run build:ts failed in the snapshot"
if [ ! -f "$tree/build/Release/uring_probe.node" ] && ! ls "$tree"/prebuilds/linux-x64/*.node >/dev/null 2>&1; then
  die "no addon in the tree (build/Release/uring_probe.node or prebuilds/): run npm run build first"
fi
# The tree goes to the guest as an ext4 image on virtio-blk (a scratch copy: the guest may write)
tree_mb=$(du -sm "$tree" | cut -f1)
truncate -s "$(( tree_mb * 3 / 2 + 512 ))M" "$work/tree.img"
mkfs.ext4 -q -F -O ^has_journal -d "$tree" "$work/tree.img" || die "mkfs.ext4 -d of the tree failed"
tests=()
for t in $test_list; do
  case "$t" in
    */*|*.js) f="$t" ;;
    *) f="$(cd "$tree" && find dist/test -name "$t.test.js" | sort | head -n 1)" ;;
  esac
  [ -n "$f" ] && [ -f "$tree/$f" ] || die "no test file for $t under dist/test"
  tests+=("$f")
done
busybox="$(busybox_bin)"

# ---- run each kernel ---------------------------------------------------------------------------
declare -a rows=() releases=() cells=()
status=0
for series in $series_list; do
  pkg="" deb="" kdir=""
  resolve "$series"
  prepare_kernel "$deb"
  release="$(cat "$kdir/release")"
  releases+=("$release")
  res="$out/$release"
  rm -rf "$res"; mkdir -p "$res"
  make_initrd "$kdir" "$tree/scripts/kernels/init.sh" "$work/initrd-$release.gz"
  {
    printf 'tests=('; printf '%q ' "${tests[@]}"; printf ')\n'
    echo "file_timeout=$file_timeout"
    echo "report_timeout=300"
  } > "$res/plan"
  say "booting $release ($(basename "$deb")) under TCG, $mem MiB, 2 vCPUs; results in $res"
  vm_start=$(date +%s.%N)
  rm -f "$work/qemu.rc"
  { timeout -k 15 "$vm_timeout" qemu-system-x86_64 \
    -accel tcg,thread=multi -cpu max -smp 2 -m "$mem" \
    -display none -monitor none -serial stdio -no-reboot \
    -kernel "$kdir/vmlinuz" -initrd "$work/initrd-$release.gz" \
    -append "console=ttyS0 loglevel=4 panic=-1 mitigations=off uring_probe_tree=$tree uring_probe_results=$res" \
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$res,mount_tag=results,security_model=none,multidevs=remap" \
    -drive "file=$work/tree.img,format=raw,if=virtio,cache=unsafe" \
    < /dev/null 2>&1; echo $? > "$work/qemu.rc"; } |
    while IFS= read -r line; do
      line="${line%$'\r'}"
      printf '%6.1f %s\n' "$(awk -v a="$vm_start" -v b="${EPOCHREALTIME}" 'BEGIN { print b - a }')" "$line"
    done | tee "$res/console.log" | sed -u "s/^/[$release] /" |
    grep --line-buffered -E '\] +[0-9.]+ (guest:|uring-probe-init:|.*(Kernel panic|BUG|Oops|error|FAIL))' || true
  qemu_rc="$(cat "$work/qemu.rc" 2>/dev/null || echo 255)"
  vm_secs=$(awk -v a="$vm_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
  boot_secs=$(grep -m1 ' guest: kernel ' "$res/console.log" | awk '{print $1}' || true)

  problems=()
  if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then problems+=("VM timed out after $vm_timeout s"); fi
  if [ -z "$boot_secs" ]; then problems+=("did not boot (see $res/console.log)"); fi
  if [ ! -f "$res/guest-done" ]; then problems+=("guest did not finish"); fi
  if [ -f "$res/guest.rc" ] && [ "$(cat "$res/guest.rc")" != 0 ]; then problems+=("guest-run exit $(cat "$res/guest.rc")"); fi

  # report expectations
  check="no report"
  if [ -s "$res/report.json" ]; then
    if node "$tree/scripts/kernels/check-report.mjs" "$res/report.json" "$release" > "$res/check.txt" 2>&1; then
      check="ok ($(count_lines '^ok' "$res/check.txt") expectations)"
    else
      check="FAIL ($(count_lines '^FAIL' "$res/check.txt") of $(count_lines '^(ok|FAIL)' "$res/check.txt"))"
      problems+=("report expectations failed")
    fi
    sed "s/^/[$release] report: /" "$res/check.txt"
  else
    problems+=("no report from check --json")
  fi

  # test counts
  t_tests=0 t_pass=0 t_fail=0 t_skip=0 t_cancel=0
  if [ -f "$res/files.tsv" ]; then
    while IFS=$'\t' read -r name rc took n p f s td c; do
      t_tests=$((t_tests + n)); t_pass=$((t_pass + p)); t_fail=$((t_fail + f)); t_skip=$((t_skip + s)); t_cancel=$((t_cancel + c))
      if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && [ "$c" -eq 0 ]; then problems+=("$name exited $rc with no failed test"); fi
    done < "$res/files.tsv"
    ran=$(wc -l < "$res/files.tsv")
    [ "$ran" -eq "${#tests[@]}" ] || problems+=("ran $ran of ${#tests[@]} test files")
  fi
  [ "$t_fail" -eq 0 ] && [ "$t_cancel" -eq 0 ] || problems+=("$t_fail failed, $t_cancel cancelled")
  result="ok"
  if [ "${#problems[@]}" -gt 0 ]; then
    result="FAIL: ${problems[0]}"
    for p in "${problems[@]:1}"; do result+="; $p"; done
    status=1
  fi
  rows+=("$(printf '%-22s %6s %6s %6s %6s %6s %7s  %-22s %s' "$release" "${boot_secs:-?}" "$vm_secs" "$t_tests" "$t_pass" "$t_fail" "$t_skip" "$check" "$result")")
  # one cell of .ci/run's matrix: NAME|pass|skip|fail|result
  cells+=("matrix-row: qemu linux $release · $(id -un) · node $(node --version)|$t_pass|$t_skip|$t_fail|$result, report $check")
done

echo
echo "kernel matrix (TCG; seconds: boot = qemu start to guest userland, vm = whole run)"
printf '%-22s %6s %6s %6s %6s %6s %7s  %-22s %s\n' kernel boot vm tests pass fail skipped "report check" result
for row in "${rows[@]}"; do echo "$row"; done
for cell in "${cells[@]}"; do echo "$cell"; done
echo
for release in "${releases[@]}"; do
  [ -f "$out/$release/files.tsv" ] || continue
  echo "$release: per file (name, exit, seconds, tests, pass, fail, skipped, todo, cancelled)"
  sed 's/^/  /' "$out/$release/files.tsv"
done
say "results (console.log, report.json, check.txt, *.tap) in $out; $(( $(date +%s) - t_start )) s in all"
exit "$status"
