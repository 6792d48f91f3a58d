#!/usr/bin/env bash
# Build the prebuilt Node-API addon that the package ships: prebuilds/linux-x64/uring-probe.napi.glibc.node.
#
#   scripts/build-prebuild.sh              build it (npm run build:prebuild; needs root and debootstrap)
#   scripts/build-prebuild.sh --if-stale   only when it is missing or older than a native/ source
#                                          (npm's prepack); URING_PROBE_ALLOW_STALE_PREBUILD=1 packs
#                                          the one present (or none) with a warning where it cannot build
#
# The addon is compiled INSIDE a Debian 11 (bullseye, glibc 2.31, g++ 10) root made once by
# scripts/debootstrap-root.sh (cached under /var/cache/uring-probe/roots/bullseye-build), so the
# binary asks for no glibc symbol newer than 2.31 and loads on Debian 11+, Ubuntu 20.04+, RHEL 9...
# libstdc++ and libgcc are linked statically (and kept out of the dynamic symbol table), so the
# prebuild needs no GLIBCXX/CXXABI version and no libstdc++.so at all. Node-API (NAPI_VERSION=8):
# one binary for every Node from 20 on.
#
# No node-gyp: g++ is called with the flags of binding.gyp (C++17, -O2, -fno-exceptions, -pthread,
# -Wall -Wextra, the NAPI defines, every native/**/*.cc), plus what node-gyp adds by itself for a
# C++ addon (-fPIC, -fno-rtti, BUILDING_NODE_EXTENSION) and -shared; -ldl because dlopen lives in
# libdl before glibc 2.34. Hidden visibility and a version script: only Node-API's entry points
# (napi_register_module_v1, node_api_module_get_api_version_v1) are exported, so nothing of ours or
# of the static libstdc++ interposes on (or is interposed by) node's or another addon's symbols.
# Stripped (-s).
# A warning fails the build.
#
# Headers: node-addon-api from node_modules, and Node's own C headers for Node-API (node_api.h,
# js_native_api.h, js_native_api_types.h, node_api_types.h) from $URING_PROBE_NODE_HEADERS, else
# /usr/include/node, else the include/node beside the running node (or $URING_PROBE_TEST_NODE).
#
# Environment: URING_PROBE_ROOTS (where roots are cached), URING_PROBE_DEBIAN_MIRROR (see
# debootstrap-root.sh), URING_PROBE_NODE_HEADERS (a directory holding node_api.h).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
out_dir="prebuilds/linux-x64"
out="$out_dir/uring-probe.napi.glibc.node"
max_glibc="2.31"

if_stale=""
case "${1:-}" in
  "") ;;
  --if-stale) if_stale=1 ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: scripts/build-prebuild.sh [--if-stale]" >&2; exit 64 ;;
esac

stale=""
if [ -n "$if_stale" ]; then
  if [ ! -f "$out" ]; then
    stale="$out is missing"
  else
    newer="$(find native -type f -newer "$out" | LC_ALL=C sort | head -n 3 | tr '\n' ' ')"
    [ -z "$newer" ] || stale="$out is older than ${newer% }"
  fi
  if [ -z "$stale" ]; then
    echo "build-prebuild: $out is up to date (newer than every native/ source)" >&2
    exit 0
  fi
  echo "build-prebuild: $stale: rebuilding it" >&2
fi

die() {
  echo "build-prebuild: $*" >&2
  if [ -n "$stale" ]; then
    if [ "${URING_PROBE_ALLOW_STALE_PREBUILD:-}" = "1" ]; then
      echo "build-prebuild: WARNING: packing anyway (URING_PROBE_ALLOW_STALE_PREBUILD=1): $stale, so the package's prebuilt addon does not match native/ (or is absent: installs then need python3, make and g++)" >&2
      exit 0
    fi
    echo "build-prebuild: npm pack/publish ships $out, and $stale. Rebuild it first as root: sudo npm run build:prebuild" >&2
    echo "build-prebuild: (or pack what is there with URING_PROBE_ALLOW_STALE_PREBUILD=1, for a local tarball only)" >&2
  fi
  exit 1
}

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "builds the linux-x64 prebuild only (this is $(uname -s)-$(uname -m))"
if [ "$(id -u)" -ne 0 ]; then
  die "needs root (debootstrap and chroot into a Debian 11 root); run it as root, or take the prebuild from a release/CI build"
fi
for tool in objdump readelf; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install binutils)"
done

# --- headers ---------------------------------------------------------------------------------
napi_headers=(node_api.h js_native_api.h js_native_api_types.h node_api_types.h)
header_dir=""
candidates=("${URING_PROBE_NODE_HEADERS:-}" /usr/include/node)
if command -v node >/dev/null; then
  candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node")
fi
if [ -n "${URING_PROBE_TEST_NODE:-}" ]; then
  candidates+=("$(dirname "$(dirname "$(readlink -f "$URING_PROBE_TEST_NODE")")")/include/node")
fi
for dir in "${candidates[@]}"; do
  if [ -n "$dir" ] && [ -f "$dir/node_api.h" ]; then header_dir="$dir"; break; fi
done
[ -n "$header_dir" ] || die "Node's Node-API headers (node_api.h) not found in: ${candidates[*]}; set URING_PROBE_NODE_HEADERS"
addon_api="node_modules/node-addon-api"
[ -f "$addon_api/napi.h" ] || die "$addon_api/napi.h is missing: run npm install (node-addon-api is a dependency)"

mapfile -t sources < <(cd native && find . -name '*.cc' | sed 's|^\./||' | LC_ALL=C sort)
[ "${#sources[@]}" -gt 0 ] || die "no native/**/*.cc"

# --- the Debian 11 build root -----------------------------------------------------------------
start=$(date +%s)
root="$(scripts/debootstrap-root.sh bullseye bullseye-build g++ make)" || die "could not make the bullseye build root (see above)"
root_ready=$(date +%s)

work="$root/build/uring-probe"
rm -rf "$work"
mkdir -p "$work/include"
cp -r native "$work/native"
for h in "${napi_headers[@]}"; do
  [ -f "$header_dir/$h" ] || die "$header_dir/$h is missing"
  cp "$header_dir/$h" "$work/include/"
done
cp "$addon_api"/napi.h "$addon_api"/napi-inl.h "$addon_api"/napi-inl.deprecated.h "$work/include/"

cflags=(-std=c++17 -O2 -fno-exceptions -fno-rtti -pthread -fPIC -fvisibility=hidden -fvisibility-inlines-hidden -Wall -Wextra
  -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED
  -DBUILDING_NODE_EXTENSION -DNODE_GYP_MODULE_NAME=uring_probe
  -Iinclude -Inative)
ldflags=(-shared -pthread -static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL -Wl,--version-script=exports.map -Wl,-O1 -s)

# libstdc++'s templates instantiated by us (std::vector<...>) keep default visibility: the version
# script leaves only Node-API's entry points in the dynamic symbol table.
printf '{\n  global: napi_register_module_v1; node_api_module_get_api_version_v1;\n  local: *;\n};\n' > "$work/exports.map"

# The root's make runs one g++ per core (objects under obj/), then links. Everything runs inside the
# root with a clean environment: the root's own g++ 10, headers and glibc 2.31.
{
  echo "CXXFLAGS := ${cflags[*]}"
  echo "LDFLAGS := ${ldflags[*]}"
  printf 'OBJS :='; for s in "${sources[@]}"; do printf ' obj/%s.o' "$s"; done; echo
  printf 'uring-probe.napi.glibc.node: $(OBJS)\n\tg++ $(LDFLAGS) -o $@ $(OBJS) -ldl\n'
  printf 'obj/%%.cc.o: native/%%.cc\n\t@mkdir -p $(dir $@)\n\tg++ $(CXXFLAGS) -c $< -o $@\n'
} > "$work/Makefile"

log="$work/build.log"
echo "build-prebuild: g++ ${cflags[*]} -c native/X.cc; g++ ${ldflags[*]} obj/*.o -ldl" >&2
echo "build-prebuild: compiling ${#sources[@]} files in $root (Debian 11: $(chroot "$root" g++ --version | head -n1), glibc $(chroot "$root" ldd --version | head -n1 | awk '{print $NF}'))" >&2
if ! chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LC_ALL=C TMPDIR=/tmp make -s -C /build/uring-probe -j"$(nproc)" --no-print-directory >"$log" 2>&1; then
  cat "$log" >&2
  die "the build failed inside $root"
fi
if grep -q 'warning:' "$log"; then
  cat "$log" >&2
  die "the build printed warnings ($(grep -c 'warning:' "$log")); it must print none"
fi
[ -s "$log" ] && cat "$log" >&2

# --- checks, then copy out ---------------------------------------------------------------------
built="$work/uring-probe.napi.glibc.node"
# (whole outputs in variables: `cmd | grep -q` would end cmd with SIGPIPE under pipefail)
dynsyms="$(objdump -T "$built")"
highest="$(grep -o 'GLIBC_[0-9.]*' <<<"$dynsyms" | sed 's/^GLIBC_//' | sort -uV | tail -n1 || true)"
if [ -n "$highest" ] && [ "$(printf '%s\n%s\n' "$highest" "$max_glibc" | sort -V | tail -n1)" != "$max_glibc" ]; then
  die "the addon needs GLIBC_$highest, above GLIBC_$max_glibc"
fi
if grep -Eq 'GLIBCXX_|CXXABI_' <<<"$dynsyms"; then
  die "the addon still needs versioned libstdc++ symbols: $(grep -Eo '(GLIBCXX|CXXABI)_[0-9.]*' <<<"$dynsyms" | sort -u | tr '\n' ' ')"
fi
needed="$(readelf -d "$built" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
case "$needed" in *libstdc++*|*libgcc_s*) die "the addon still needs a shared C++ runtime: $needed" ;; esac
grep -Eq '[[:space:]]napi_register_module_v1$' <<<"$dynsyms" || die "napi_register_module_v1 is not exported"

mkdir -p "$out_dir"
cp "$built" "$out.tmp"
mv -f "$out.tmp" "$out"
rm -rf "$work"

size=$(stat -c %s "$out")
echo "build-prebuild: $out: $size bytes ($(( (size + 1023) / 1024 )) KiB), highest symbol version GLIBC_${highest:-none}, NEEDED: ${needed% }"
echo "build-prebuild: build root ready in $(( root_ready - start )) s, addon built in $(( $(date +%s) - root_ready )) s"
