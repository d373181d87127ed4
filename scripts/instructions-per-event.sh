#!/usr/bin/env bash
# Instructions per event of the failure–repair farm (examples/farm.rs), counted by
# valgrind's callgrind: stable on a busy machine, unlike wall-clock time. The farm runs
# on the engine and on the engine bench's two yardsticks (benches/farm/mod.rs): a bare
# calendar loop that does the engine's work for this model and nothing else, and a
# plain binary-heap loop.
#
# Usage: scripts/instructions-per-event.sh [N ...]   (default: 1000 100000)
#
# For each N and loop the farm runs twice, with T and 2T one-year trials (T chosen for
# about 250,000 events); the difference between the two counts is the cost of T whole
# trials (initial state, sampling, queue, state changes) without the program's set-up,
# and is divided by the difference in events.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
cargo build --release --quiet --example farm
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 100000)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
count() { # n trials loop -> "events instructions"
  local events instructions
  events=$(valgrind --tool=callgrind --callgrind-out-file="$out" \
    target/release/examples/farm "$1" "$2" "$3" 2>/dev/null)
  instructions=$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}')
  echo "$events $instructions"
}
for n in "${sizes[@]}"; do
  # About 1.75 events per component-year.
  trials=$(( (250000 + n * 7 / 4 - 1) / (n * 7 / 4) ))
  [ "$trials" -ge 1 ] || trials=1
  for loop in engine bare-calendar binary-heap; do
    read -r e1 i1 < <(count "$n" "$trials" "$loop")
    read -r e2 i2 < <(count "$n" $(( 2 * trials )) "$loop")
    awk -v n="$n" -v l="$loop" -v t="$trials" -v e="$((e2 - e1))" -v i="$((i2 - i1))" \
      'BEGIN { printf "N = %-7d %-13s %3d trials  %8d events  %12d instructions  %6.1f per event\n", n, l, t, e, i, i / e }'
  done
done
