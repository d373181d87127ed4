#!/usr/bin/env bash
# submit.sh: submit a sharded nines run to Slurm: a job array of SHARDS tasks
# (nines-array.sbatch) and a merge job (nines-merge.sbatch) that runs after the
# array has ended, however its tasks ended (afterany), and writes
# $OUT_DIR/result.json, or names the shards that are missing.
#
# Usage: [VAR=value ...] deploy/slurm/submit.sh [extra sbatch options...]
#   SCENARIO  scenario file                 (default: scenarios/s3-six-copies.json of this repository)
#   TRIALS    trials of the whole run       (default: the scenario's `trials`, else 10,000)
#   SEED      seed                          (default: the scenario's `seed`, else 1)
#   SHARDS    number of array tasks         (default: 8)
#   OUT_DIR   output directory, new or without part files
#                                           (default: ./nines-<date>-<time>)
#   NINES     nines binary                  (default: target/release/nines of this
#                                            repository if built, else nines from PATH)
# Extra arguments go to both sbatch calls (e.g. --partition=long --time=1:00:00).
# Prints "array job: ID" and "merge job: ID" (ids alone with --parsable-ids as
# the first argument: "ARRAY_ID MERGE_ID").
# Paths are made absolute; OUT_DIR must be on a file system the compute nodes share.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

ids_only=0
if [[ ${1:-} == --parsable-ids ]]; then
    ids_only=1
    shift
fi

SCENARIO=${SCENARIO:-$repo/scenarios/s3-six-copies.json}
TRIALS=${TRIALS:-}
SEED=${SEED:-}
SHARDS=${SHARDS:-8}
OUT_DIR=${OUT_DIR:-$PWD/nines-$(date +%Y%m%d-%H%M%S)}
if [[ -z ${NINES:-} ]]; then
    if [[ -x $repo/target/release/nines ]]; then
        NINES=$repo/target/release/nines
    else
        NINES=$(command -v nines || true)
    fi
fi

die() { echo "submit.sh: $*" >&2; exit 1; }
[[ -n $NINES && -x $NINES ]] || die "no nines binary: build it (cargo build --release) or set NINES"
[[ -f $SCENARIO ]] || die "no scenario file $SCENARIO"
[[ $SHARDS =~ ^[1-9][0-9]*$ ]] || die "SHARDS must be a positive integer, not '$SHARDS'"
[[ -z $TRIALS || $TRIALS =~ ^[1-9][0-9]*$ ]] || die "TRIALS must be a positive integer, not '$TRIALS'"
[[ -z $SEED || $SEED =~ ^[0-9]+$ ]] || die "SEED must be a non-negative integer, not '$SEED'"
command -v sbatch >/dev/null || die "sbatch not found: run this on a Slurm login node"
# Check the scenario here, so that a typo fails now and not in every task.
"$NINES" check "$SCENARIO" >/dev/null || die "nines check $SCENARIO failed"

abs() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }
NINES=$(abs "$NINES")
SCENARIO=$(abs "$SCENARIO")
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
if compgen -G "$OUT_DIR/part-*.json" >/dev/null || [[ -e $OUT_DIR/result.json ]]; then
    die "$OUT_DIR already holds part files or a result.json of an earlier run; choose a new OUT_DIR"
fi
export NINES SCENARIO TRIALS SEED SHARDS OUT_DIR

# sbatch --parsable prints "jobid" or "jobid;cluster".
array_id=$(sbatch --parsable --export=ALL --array="0-$((SHARDS - 1))" \
    --output="$OUT_DIR/slurm-%A_%a.out" "$@" "$here/nines-array.sbatch")
array_id=${array_id%%;*}
merge_id=$(sbatch --parsable --export=ALL --dependency="afterany:$array_id" \
    --output="$OUT_DIR/slurm-%j-merge.out" "$@" "$here/nines-merge.sbatch")
merge_id=${merge_id%%;*}

if ((ids_only)); then
    echo "$array_id $merge_id"
else
    echo "array job: $array_id ($SHARDS tasks: $SCENARIO, trials ${TRIALS:-as in the scenario}, seed ${SEED:-as in the scenario})"
    echo "merge job: $merge_id (after $array_id; writes $OUT_DIR/result.json)"
fi
