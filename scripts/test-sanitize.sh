#!/usr/bin/env bash
# npm run test:sanitize — the native addon under AddressSanitizer + UndefinedBehaviorSanitizer.
#
# 1. Builds the addon from native/**/*.cc (the sources binding.gyp names, same defines and includes)
#    with -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
#    into build-sanitize/Release/uring_probe.node (gitignored). g++ is called directly: node-gyp
#    cannot put a second build next to build/ (build/ stays the normal build, untouched).
# 2. Runs the native-heavy tests (native, probes, bench, native-hygiene, and the ring-fault tests:
#    ring-faults, enter-returns-early, cancel-await, sqpoll-wakeup, multishot-cancel, ring-geometry) and the CLI (check, bench --duration 200) with that addon:
#    URING_PROBE_ADDON (src/native.ts) points the loader at it, and every child process (the probe
#    child included) inherits it, with libasan LD_PRELOADed (node itself is not instrumented, and
#    the ASan runtime has to come first).
#
# ASan reports go to build-sanitize/logs/ (log_path), not only to stderr: the probe child's stderr
# is read by its parent, which keeps only its tail (in the report's facts). GCC's UBSan runtime
# ignores log_path next to ASan, so every step's output (the check report included) is kept in
# build-sanitize/steps/ and searched for "runtime error:" / "Sanitizer"; -fno-sanitize-recover
# makes UB abort the process as well. Any report, or any failing step, makes the script exit 1.
#
# ASAN_OPTIONS=detect_leaks=0: LeakSanitizer is off because Node and V8 keep process-lifetime
# allocations on purpose (isolate, snapshot, handles freed by exit): every run would "leak".
# Native resource leaks (fds, mappings, threads) are what test/native-hygiene.test.ts counts.
#
#   npm run test:sanitize                   build + run everything
#   scripts/test-sanitize.sh --build-only   just build the sanitized addon
#   scripts/test-sanitize.sh --no-build     reuse build-sanitize/Release/uring_probe.node
#   SANITIZE_JOBS=2 (default 2): parallel compiles
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

build=1 run=1
for arg in "$@"; do
  case "$arg" in
    --build-only) run=0 ;;
    --no-build) build=0 ;;
    *) echo "test-sanitize: unknown argument $arg" >&2; exit 64 ;;
  esac
done

out="$root/build-sanitize"
addon="$out/Release/uring_probe.node"
logs="$out/logs"
jobs="${SANITIZE_JOBS:-2}"
CXX="${CXX:-g++}"

die() { echo "test-sanitize: $*" >&2; exit 1; }

# The ASan runtime of the compiler that builds the addon (it must be the same one).
libasan="$("$CXX" -print-file-name=libasan.so)"
[ -f "$libasan" ] || die "no libasan.so for $CXX (got '$libasan'); install the compiler's ASan runtime (Debian: libasan8 with gcc 12)"

if [ "$build" = 1 ]; then
  # Node's headers: npm_config_nodedir (as .ci/run sets it), else the ones installed with node,
  # else node-gyp's cache.
  node_version="$(node -p 'process.versions.node')"
  node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  node_inc=""
  for dir in ${npm_config_nodedir:+"$npm_config_nodedir/include/node"} "$node_prefix/include/node" \
             "$HOME/.cache/node-gyp/$node_version/include/node"; do
    if [ -f "$dir/node_api.h" ]; then node_inc="$dir"; break; fi
  done
  [ -n "$node_inc" ] || die "no Node headers (node_api.h) found; set npm_config_nodedir"
  napi_inc="$(node -p "require('node-addon-api').include_dir")"
  [ -f "$napi_inc/napi.h" ] || die "node-addon-api not installed (npm install)"

  # Exactly binding.gyp's source list.
  mapfile -t sources < <(find native -name '*.cc' | LC_ALL=C sort)
  [ "${#sources[@]}" -gt 0 ] || die "no sources in native/"

  san=(-fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  cxxflags=(-fPIC -pthread -m64 -std=c++17 -fno-rtti -fno-exceptions -O1 -g -Wall -Wextra -Wno-unused-parameter
            "${san[@]}"
            -DNODE_GYP_MODULE_NAME=uring_probe -DUSING_UV_SHARED=1 -DUSING_V8_SHARED=1 -D_GLIBCXX_USE_CXX11_ABI=1
            -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE -D__STDC_FORMAT_MACROS -DBUILDING_NODE_EXTENSION
            -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED
            "-I$node_inc" "-I$napi_inc" -Inative)

  rm -rf "$out/obj" "$out/Release"
  mkdir -p "$out/obj" "$out/Release"
  echo "test-sanitize: compiling ${#sources[@]} sources with $("$CXX" --version | head -1) (-j$jobs): ${san[*]}"
  start=$SECONDS
  running=0 compile_failed=0
  for src in "${sources[@]}"; do
    if [ "$running" -ge "$jobs" ]; then wait -n || compile_failed=1; running=$((running - 1)); fi
    "$CXX" "${cxxflags[@]}" -c "$src" -o "$out/obj/$(printf %s "$src" | tr / _).o" &
    running=$((running + 1))
  done
  while [ "$running" -gt 0 ]; do wait -n || compile_failed=1; running=$((running - 1)); done
  [ "$compile_failed" = 0 ] || die "compile failed"
  "$CXX" -shared -pthread -m64 "${san[@]}" -o "$addon" "$out"/obj/*.o -ldl || die "link failed"
  echo "test-sanitize: built $addon in $((SECONDS - start)) s"
fi
[ -f "$addon" ] || die "$addon is missing (run without --no-build)"
[ "$run" = 1 ] || exit 0

# The tests and the CLI are run from dist/.
npm run --silent build:ts || die "npm run build:ts failed"

rm -rf "$logs" "$out/steps" && mkdir -p "$logs" "$out/steps"
export URING_PROBE_ADDON="$addon"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:log_path=$logs/asan:log_exe_name=1:print_summary=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1"
sanitized() { LD_PRELOAD="$libasan${LD_PRELOAD:+:$LD_PRELOAD}" "$@"; }

# First, that the sanitized addon is really the one loaded, with the ASan runtime in the process.
probe="$(sanitized node --input-type=module -e "
  const { loadAddon } = await import('$root/dist/src/native.js');
  const a = loadAddon();
  const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');
  console.log(JSON.stringify({ sqe: a.abi().sqeSize, addon: maps.includes('$addon'), asan: /libasan/.test(maps) }));
" 2>&1)" || die "the sanitized addon does not load: $probe"
[ "$probe" = '{"sqe":64,"addon":true,"asan":true}' ] || die "unexpected load check: $probe"

# And that a report would be seen: a canary library, built with the same flags, does a heap
# use-after-free (ASan) or a signed overflow (UBSan) in its constructor when node dlopen()s it; each must
# kill node and leave a report in the log directory.
canary="$out/canary"
mkdir -p "$canary"
cat >"$canary/canary.c" <<'C'
#include <stdlib.h>
#include <string.h>
__attribute__((constructor)) static void canary(void) {
  const char *kind = getenv("SANITIZE_CANARY");
  if (kind && strcmp(kind, "asan") == 0) {
    volatile char *p = malloc(8);
    free((void *)p);
    p[0] = 1; /* heap-use-after-free (ASan's; UBSan does not see it) */
  } else if (kind && strcmp(kind, "ubsan") == 0) {
    volatile int big = 0x7fffffff;
    volatile int r = big + 1; /* signed-integer-overflow */
    (void)r;
  }
}
C
"${CC:-gcc}" -shared -fPIC -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -o "$canary/canary.so" "$canary/canary.c" || die "canary build failed"
for kind in asan ubsan; do
  rm -rf "$canary/logs" && mkdir -p "$canary/logs"
  SANITIZE_CANARY="$kind" ASAN_OPTIONS="${ASAN_OPTIONS//$logs/$canary/logs}" \
    sanitized node -e 'try { process.dlopen({ exports: {} }, process.argv[1]); } catch {}' "$canary/canary.so" 2>"$canary/logs/stderr"
  rc=$?
  caught="$(cat "$canary"/logs/* 2>/dev/null | grep -m1 -oE 'heap-use-after-free|runtime error: signed integer overflow')"
  [ "$rc" -ne 0 ] && [ -n "$caught" ] || die "the $kind canary was not caught (exit $rc, report '${caught}'): reports would be missed"
  echo "test-sanitize: $kind canary caught (node exit $rc: $caught)"
done

steps=() results=() failed=0
step() { # NAME COMMAND... (its output is shown and kept in build-sanitize/steps/N.out)
  local name="$1" rc start=$SECONDS; shift
  echo; echo "test-sanitize: ── $name"
  sanitized "$@" 2>&1 | tee "$out/steps/${#steps[@]}.out"
  rc=${PIPESTATUS[0]}
  steps+=("$name"); results+=("exit $rc, $((SECONDS - start)) s")
  [ "$rc" -eq 0 ] || failed=1
}

step "node --test native probes bench native-hygiene and the ring-fault tests" \
  node --test --test-concurrency=1 dist/test/native.test.js dist/test/probes.test.js dist/test/bench.test.js dist/test/native-hygiene.test.js \
    dist/test/ring-faults.test.js dist/test/enter-returns-early.test.js dist/test/cancel-await.test.js \
    dist/test/sqpoll-wakeup.test.js dist/test/multishot-cancel.test.js dist/test/ring-geometry.test.js dist/test/wait-exact.test.js
# check exits 0..2 by verdict; anything else (a crash, an internal error) fails
check_out="$out/check.json"
step "uring-probe check" sh -c 'node dist/bin/uring-probe.js check --format json >"$1"; rc=$?; [ $rc -le 2 ] || exit $rc' _ "$check_out"
# bench exits 1 when a mode failed or data arrived corrupt: that fails the step (named in the summary)
bench_out="$out/bench.json"
step "uring-probe bench --duration 200" node dist/bin/uring-probe.js bench --duration 200 --format json --output "$bench_out"

reports=("$logs"/*)
[ -e "${reports[0]}" ] || reports=()
# UBSan (stderr only) and anything a parent kept of a child's stderr (check's report: facts.stderr)
for f in "$out"/steps/*.out "$check_out"; do
  if [ -f "$f" ] && grep -qE 'runtime error:|ERROR: (Address|UndefinedBehavior|Leak)Sanitizer|SUMMARY: (Address|UndefinedBehavior)Sanitizer' "$f"; then
    reports+=("$f")
  fi
done

echo
echo "test-sanitize: summary (addon $addon, LD_PRELOAD $libasan)"
for i in "${!steps[@]}"; do printf '  %-40s %s\n' "${steps[$i]}" "${results[$i]}"; done
if [ "${#reports[@]}" -gt 0 ]; then
  failed=1
  echo "  sanitizer reports: ${#reports[@]}"
  for f in "${reports[@]}"; do
    echo "=== $f"
    case "$f" in
      "$logs"/*) cat "$f" ;;
      *) grep -nE -A40 'runtime error:|ERROR: (Address|UndefinedBehavior|Leak)Sanitizer' "$f" | head -120 ;;
    esac
  done
else
  echo "  sanitizer reports: none (ASan + UBSan, leak checking off)"
fi
verdict="$(node -e 'try { process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).verdict)); } catch { process.stdout.write("no report"); }' "$check_out" 2>&1)"
echo "  check verdict: $verdict"
node -e '
  try {
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const bad = r.cases.filter((c) => c.error !== null || c.corrupt > 0);
    console.log(`  bench: ${r.cases.length} cases, ${bad.length} failed or corrupt`);
    for (const c of bad) console.log(`    ${c.label} ${c.size} B: error ${JSON.stringify(c.error)}, corrupt ${c.corrupt}`);
  } catch (e) { console.log("  bench: no report (" + e.message + ")"); }' "$bench_out"
[ "$failed" = 0 ] && echo "test-sanitize: ok" || echo "test-sanitize: FAILED"
exit "$failed"
