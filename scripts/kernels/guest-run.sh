#!/usr/bin/env bash
# Runs inside the guest of scripts/test-kernels.sh (chroot into the host's root seen over 9p, with a
# tmpfs overlay), as root, with the host's /usr/bin/node.
#
#   guest-run.sh TREE RESULTS
#
# TREE is the snapshot of the built tree, RESULTS the directory shared with the host (read-write).
# RESULTS/plan (written by the host, sourced here) sets: tests=(dist/test/x.test.js ...),
# file_timeout (seconds per test file), report_timeout (seconds for check --json).
# Writes: kernel (uname -r), report.json/.stderr/.rc, <name>.tap and <name>.stderr per test file,
# files.tsv (name rc seconds tests pass fail skipped todo cancelled), and guest-done at the end.
# Console lines start with "guest:" so the host can show progress.
set -u
tree="${1:?tree}"
results="${2:?results}"
file_timeout=600
report_timeout=300
tests=()
# shellcheck source=/dev/null
. "$results/plan"

say() { echo "guest: $*"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

cd "$tree" || { say "no tree at $tree"; exit 2; }
uname -r > "$results/kernel"
say "kernel $(uname -r); node $(node --version); uptime $(cut -d' ' -f1 /proc/uptime) s"

t0=$(now)
timeout -k 10 "$report_timeout" node dist/bin/uring-probe.js check --json > "$results/report.json" 2> "$results/report.stderr"
rc=$?
echo "$rc" > "$results/report.rc"
say "check --json: exit $rc in $(secs "$t0" "$(now)") s"

: > "$results/files.tsv"
for file in "${tests[@]}"; do
  name="$(basename "$file" .js)"
  name="${name%.test}"
  t0=$(now)
  timeout -k 10 "$file_timeout" node --test --test-concurrency=1 --test-reporter=tap "$file" \
    > "$results/$name.tap" 2> "$results/$name.stderr"
  rc=$?
  took=$(secs "$t0" "$(now)")
  count() { local v; v=$(grep -E "^# $1 [0-9]+$" "$results/$name.tap" | tail -n 1 | awk '{print $3}'); echo "${v:-0}"; }
  tests_n=$(count tests); pass=$(count pass); fail=$(count fail); skipped=$(count skipped)
  todo=$(count todo); cancelled=$(count cancelled)
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then say "$name: timed out after $file_timeout s"; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rc" "$took" "$tests_n" "$pass" "$fail" "$skipped" "$todo" "$cancelled" >> "$results/files.tsv"
  say "$name: exit $rc in $took s: $tests_n tests, $pass pass, $fail fail, $skipped skipped, $cancelled cancelled"
  grep -E '^ *not ok ' "$results/$name.tap" | sed 's/^ */guest:   /' | head -n 40
done
echo done > "$results/guest-done"
sync
exit 0
