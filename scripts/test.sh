#!/usr/bin/env bash
# scripts/test.sh: the project's full test command.
#
#   1. cargo test --locked     unit, integration and doc tests
#      cargo doc               the API documentation builds without a warning
#                              (no broken or private links)
#   2. scripts/notebooks.sh    the teaching notebooks, executed headless (notebooks/README.md)
#   3. tests/slurm/run.sh      sharded run on a real one-node Slurm cluster, compared
#                              byte for byte with a single-process run (needs root to
#                              install slurm-wlm/munge and start the daemons;
#                              NINES_SKIP_SLURM=1 skips it where that is impossible)
#   4. tests/browser/check.sh  the HTML reports, rendered by headless Chromium
#
# Usage: scripts/test.sh   (from anywhere; runs in the repository's root)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo test --locked
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet
bash scripts/notebooks.sh
bash tests/slurm/run.sh
bash tests/browser/check.sh
