#!/usr/bin/env bash
# Instructions per event of the failure–repair farm (examples/farm.rs), counted by
# valgrind's callgrind: stable on a busy machine, unlike wall-clock time.
#
# Usage: scripts/instructions-per-event.sh [N ...]   (default: 1000 100000)
# Each N runs enough one-year trials for about half a million events; the count covers
# whole trials (initial state, sampling, queue, state changes) and the program's set-up.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
cargo build --release --quiet --example farm
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 100000)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for n in "${sizes[@]}"; do
  # About 1.75 events per component-year: aim for ~500,000 events.
  trials=$(( (500000 + n * 7 / 4 - 1) / (n * 7 / 4) ))
  [ "$trials" -ge 1 ] || trials=1
  events=$(valgrind --tool=callgrind --callgrind-out-file="$out" \
    target/release/examples/farm "$n" "$trials" 2>/dev/null)
  instructions=$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}')
  awk -v n="$n" -v t="$trials" -v e="$events" -v i="$instructions" \
    'BEGIN { printf "N = %-7d %3d trials  %8d events  %12d instructions  %6.1f per event\n", n, t, e, i, i / e }'
done
