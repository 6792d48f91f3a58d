#!/usr/bin/env bash
# What can be checked here, on Debian, of building uring-probe from source on musl (Alpine):
#
#   scripts/musl-check.sh            (needs musl-tools, g++, binutils; no root)
#
# Debian has musl's C library, headers and musl-gcc (package musl-tools), but no C++ toolchain
# for musl (no musl libstdc++, no musl Node). So:
#
#  1. C (bench/reference/*.c, test/helpers/*.c): compiled and linked with musl-gcc, -Wall -Wextra,
#     with the kernel's uapi headers (linux/, asm/, asm-generic/: what Alpine's linux-headers
#     gives) behind musl's own; then run on musl's dynamic loader: the C reference's loopback
#     modes, and the seccomp launcher in front of a small musl program that calls io_uring_setup.
#  2. C++ (native/**/*.cc, the addon): every file compiled to an object (flags of binding.gyp)
#     against musl's C headers, with libstdc++'s C++ headers configured as a musl-targeted GCC
#     configures them (an overlay: os/generic os_defines.h, no glibc-only pthread_*clock* calls,
#     locale_t for the locale model); any warning or error fails.
#  3. Every C symbol those objects call (nm -u, unmangled, not Node-API's napi_*) must be defined
#     by musl's libc.so; what is left must come from libstdc++/libsupc++ or the linker.
#
# NOT verified here: linking the addon against a musl libstdc++, loading it in a musl Node, the
# node-gyp build on Alpine, or the addon's behaviour at run time on musl.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

missing() { echo "musl-check: $*" >&2; exit 2; }
command -v musl-gcc >/dev/null || missing "musl-gcc is missing (apt-get install musl-tools)"
command -v g++ >/dev/null || missing "g++ is missing (its libstdc++ headers are used)"
command -v nm >/dev/null || missing "nm is missing (apt-get install binutils)"
musl_inc=/usr/include/x86_64-linux-musl
musl_libc=/usr/lib/x86_64-linux-musl/libc.so
[ -f "$musl_inc/stdlib.h" ] && [ -f "$musl_libc" ] || missing "musl's headers/libc.so are not in $musl_inc, $musl_libc (apt-get install musl-dev)"
[ -d /usr/include/linux ] && [ -d /usr/include/asm-generic ] || missing "kernel uapi headers missing (apt-get install linux-libc-dev)"
asm_dir="/usr/include/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/asm"
[ -d "$asm_dir" ] || missing "no $asm_dir (linux-libc-dev)"
[ -f node_modules/node-addon-api/napi.h ] || missing "node_modules/node-addon-api is missing: npm install"
node_headers=""
for dir in "${URING_PROBE_NODE_HEADERS:-}" /usr/include/node "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"; do
  if [ -n "$dir" ] && [ -f "$dir/node_api.h" ]; then node_headers="$dir"; break; fi
done
[ -n "$node_headers" ] || missing "Node's node_api.h not found (set URING_PROBE_NODE_HEADERS)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/uring-probe-musl-check.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
pass() { echo "PASS  $*"; passed=$((passed + 1)); }
fail() { echo "FAIL  $*"; failed=$((failed + 1)); }
# run "what" command...: PASS when it exits 0 and prints nothing (no warning either)
quiet() {
  local what="$1"; shift
  local out
  if out="$("$@" 2>&1)" && [ -z "$out" ]; then pass "$what"; return 0; fi
  fail "$what"
  printf '%s\n' "$out" | grep -E 'error|warning' | head -n 8 | sed 's/^/      /'
  return 1
}

# Kernel uapi headers after musl's (Alpine: linux-headers), not Debian's glibc headers.
mkdir -p "$tmp/uapi"
ln -s /usr/include/linux "$tmp/uapi/linux"
ln -s "$asm_dir" "$tmp/uapi/asm"
ln -s /usr/include/asm-generic "$tmp/uapi/asm-generic"

echo "musl-check: musl $(dpkg-query -W -f '${Version}' musl 2>/dev/null || echo '?'), g++ $(g++ -dumpfullversion), Node-API headers from $node_headers"
echo "== 1. C, with musl-gcc (linked against musl, run on /lib/ld-musl-x86_64.so.1)"
mkdir -p "$tmp/bin"
for src in bench/reference/*.c test/helpers/*.c; do
  [ -f "$src" ] || continue
  quiet "musl-gcc -O2 -Wall -Wextra $src" musl-gcc -O2 -Wall -Wextra -isystem "$tmp/uapi" -o "$tmp/bin/$(basename "$src" .c)" "$src" -lpthread
done

ref="$tmp/bin/udp_loopback_ref"
if [ -x "$ref" ]; then
  for mode in syscall mmsg seed seed-batch multishot; do
    line="$("$ref" "$mode" 512 150 2>&1 | tail -n 1)"
    if [[ "$line" == *'"res":0'* ]] && [[ "$line" != *'"received":0,'* ]] && [[ "$line" == *'"corrupt":0'* ]]; then
      pass "udp_loopback_ref $mode (musl): $line"
    else
      fail "udp_loopback_ref $mode (musl): $line"
    fi
  done
else
  echo "SKIP  running udp_loopback_ref: it did not build for musl"
fi

launcher="$tmp/bin/seccomp-launcher"
if [ -x "$launcher" ]; then
  cat > "$tmp/setup.c" <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  unsigned char params[120];
  memset(params, 0, sizeof params);
  long fd = syscall(SYS_io_uring_setup, 4, params);
  printf("%ld %d\n", fd < 0 ? -1L : 0L, fd < 0 ? errno : 0);
  return 0;
}
EOF
  if quiet "musl-gcc: an io_uring_setup caller" musl-gcc -O2 -Wall -Wextra -o "$tmp/bin/setup" "$tmp/setup.c"; then
    plain="$("$tmp/bin/setup")"
    filtered="$("$launcher" --errno io_uring_setup=EPERM -- "$tmp/bin/setup" 2>&1)"
    if [ "$filtered" = "-1 1" ]; then
      pass "seccomp-launcher (musl) --errno io_uring_setup=EPERM: the musl program sees EPERM (unfiltered: '$plain')"
    else
      fail "seccomp-launcher (musl) --errno io_uring_setup=EPERM: got '$filtered' (unfiltered: '$plain')"
    fi
  fi
else
  echo "SKIP  running seccomp-launcher: it did not build for musl"
fi

echo "== 2. C++ (native/**/*.cc) against musl's headers, libstdc++ configured as for musl"
# libstdc++'s C++ headers from this g++, with its target config (bits/) overlaid.
mapfile -t cxx_dirs < <(g++ -v -E -x c++ /dev/null -o /dev/null 2>&1 |
  sed -n '/#include <...> search starts here:/,/End of search list./p' | sed '1d;$d' | sed 's/^ *//' |
  grep -E '/c\+\+/|/gcc/')
config_dir=""
for d in "${cxx_dirs[@]}"; do [ -f "$d/bits/c++config.h" ] && config_dir="$d"; done
[ -n "$config_dir" ] || missing "libstdc++'s bits/c++config.h not found in: ${cxx_dirs[*]}"
overlay="$tmp/libstdc++-musl"
mkdir -p "$overlay/bits"
# a musl-targeted GCC uses config/os/generic: no glibc version tests
printf '#ifndef _GLIBCXX_OS_DEFINES\n#define _GLIBCXX_OS_DEFINES 1\n#endif\n' > "$overlay/bits/os_defines.h"
# glibc-only functions libstdc++ was configured to call (musl has no pthread_cond_clockwait,
# pthread_*_clocklock, __cxa_thread_atexit_impl, <sys/sdt.h>)
sed -E '/#define _GLIBCXX_(USE_PTHREAD_COND_CLOCKWAIT|USE_PTHREAD_MUTEX_CLOCKLOCK|USE_PTHREAD_RWLOCK_CLOCKLOCK|HAVE___CXA_THREAD_ATEXIT_IMPL|HAVE_SYS_SDT_H) /d' \
  "$config_dir/bits/c++config.h" > "$overlay/bits/c++config.h"
# glibc's __locale_t is POSIX locale_t on musl
sed 's/\b__locale_t\b/locale_t/g' "$config_dir/bits/c++locale.h" > "$overlay/bits/c++locale.h"
mkdir -p "$tmp/napi"
cp "$node_headers"/{node_api.h,js_native_api.h,js_native_api_types.h,node_api_types.h} node_modules/node-addon-api/napi*.h "$tmp/napi/"

includes=(-nostdinc -isystem "$overlay")
for d in "${cxx_dirs[@]}"; do includes+=(-isystem "$d"); done
includes+=(-isystem "$musl_inc" -I"$tmp/napi" -Inative)
cxxflags=(-std=c++17 -O2 -fPIC -fno-exceptions -fno-rtti -pthread -Wall -Wextra
  -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED -DBUILDING_NODE_EXTENSION)
mkdir -p "$tmp/obj"
objects=()
while IFS= read -r src; do
  obj="$tmp/obj/$(echo "$src" | tr / _).o"
  if quiet "g++ -c $src (musl headers)" g++ "${cxxflags[@]}" "${includes[@]}" -c "$src" -o "$obj"; then objects+=("$obj"); fi
done < <(find native -name '*.cc' | LC_ALL=C sort)

echo "== 3. the C functions the addon's objects call, looked up in musl's libc.so"
if [ "${#objects[@]}" -gt 0 ]; then
  nm -D --defined-only "$musl_libc" | awk '{print $NF}' | sort -u > "$tmp/musl.syms"
  nm -u "${objects[@]}" | awk 'NF && $NF !~ /:$/ {print $NF}' | grep -v '^_Z' | grep -Ev '^(napi_|node_api_)' | sort -u > "$tmp/called.syms"
  # from libstdc++/libsupc++ (a musl build has them) or the linker/crt files
  not_libc='^(__cxa_guard_acquire|__cxa_guard_release|__cxa_guard_abort|__cxa_pure_virtual|__gxx_personality_v0|_Unwind_.*|__dso_handle|_GLOBAL_OFFSET_TABLE_)$'
  unknown="$(comm -23 "$tmp/called.syms" "$tmp/musl.syms" | grep -Ev "$not_libc" | tr '\n' ' ')"
  called="$(grep -Evc "$not_libc" "$tmp/called.syms")"
  if [ -z "$unknown" ]; then
    pass "all $called C functions called by ${#objects[@]} objects exist in musl's libc.so"
  else
    fail "not in musl's libc.so: $unknown"
  fi
  if [ "${#objects[@]}" -lt "$(find native -name '*.cc' | wc -l)" ]; then
    echo "      (objects that did not compile are not in this lookup)"
  fi
fi

echo "not verified here: linking against a musl libstdc++, loading the addon in a musl Node, node-gyp on Alpine, the addon at run time on musl"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
