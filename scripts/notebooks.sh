#!/usr/bin/env bash
# scripts/notebooks.sh: execute every notebook in notebooks/ headless, failing on the first error.
#
#   1. cargo build --release --locked   the nines binary the notebooks run (skipped when NINES is set)
#   2. target/notebook-venv             a virtual environment with the exact versions of
#                                       notebooks/requirements.txt; pip runs again only when
#                                       that file (or the Python version) changes
#   3. nbclient                         runs notebooks/*.ipynb in name order with a timeout per
#                                       cell; the executed copies, outputs included, are
#                                       written to target/notebooks/
#
# Nothing is installed or registered outside target/: the kernel spec lives in the
# virtual environment, and Jupyter's, IPython's and matplotlib's own files go to
# target/notebooks/.home/. Matplotlib draws with the non-interactive Agg backend.
#
# Environment:
#   NINES             a nines binary to run instead of building target/release/nines
#   PYTHON            the Python that creates the environment (default: python3; 3.11 or newer)
#   NOTEBOOK_TIMEOUT  seconds a cell may run (default: 300)
#
# Usage: scripts/notebooks.sh [NOTEBOOK.ipynb ...]   (default: every notebooks/*.ipynb)
set -euo pipefail

caller=$PWD
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
absolute() { case $1 in /*) echo "$1" ;; *) echo "$caller/$1" ;; esac; }

python=${PYTHON:-python3}
venv=$root/target/notebook-venv
out=$root/target/notebooks
timeout=${NOTEBOOK_TIMEOUT:-300}

if [ "$#" -gt 0 ]; then
  notebooks=()
  for notebook in "$@"; do notebooks+=("$(absolute "$notebook")"); done
else
  shopt -s nullglob
  notebooks=(notebooks/*.ipynb)
  shopt -u nullglob
fi
if [ "${#notebooks[@]}" -eq 0 ]; then
  echo "notebooks.sh: no notebooks to run" >&2
  exit 1
fi

# 1. The binary (built unless NINES names one).
if [ -z "${NINES:-}" ]; then
  cargo build --release --locked
  NINES=$root/target/release/nines
fi
NINES=$(absolute "$NINES")
export NINES
if [ ! -x "$NINES" ]; then
  echo "notebooks.sh: $NINES is not an executable nines binary" >&2
  exit 1
fi

# 2. The virtual environment.
if ! command -v "$python" >/dev/null 2>&1; then
  echo "notebooks.sh: $python not found; install Python 3.11 or newer (Debian: apt-get install python3 python3-venv)" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "notebooks.sh: the notebooks' pinned packages need Python 3.11 or newer; $python is $("$python" -V 2>&1)" >&2
  exit 1
fi
# Debian and Ubuntu ship venv's pip bootstrap (ensurepip) in a separate package.
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "notebooks.sh: installing python3-venv (python3 -m venv is missing)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "notebooks.sh: '$python -m venv' is not available. On Debian or Ubuntu run" >&2
    echo "  sudo apt-get install python3-venv" >&2
    echo "and try again (or set PYTHON to a Python 3.11+ that has venv)." >&2
    exit 1
  fi
fi

stamp=$venv/.requirements.sha256
want=$( { sha256sum notebooks/requirements.txt; "$python" -V 2>&1; } | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$("$venv/bin/python" -V 2>&1)" != "$("$python" -V 2>&1)" ]; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -f "$stamp"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r notebooks/requirements.txt
  # The kernel the notebooks ask for ("python3"), inside the environment only.
  "$venv/bin/python" -m ipykernel install --sys-prefix --name python3 \
    --display-name "Python 3" >/dev/null
  echo "$want" >"$stamp"
fi

# 3. Run the notebooks.
mkdir -p "$out/.home"
export MPLBACKEND=Agg
export MPLCONFIGDIR=$out/.home/matplotlib
export IPYTHONDIR=$out/.home/ipython
export JUPYTER_CONFIG_DIR=$out/.home/jupyter-config
export JUPYTER_DATA_DIR=$out/.home/jupyter-data
export JUPYTER_RUNTIME_DIR=$out/.home/jupyter-runtime
export JUPYTER_PATH=$venv/share/jupyter     # searched first: this environment's python3 kernel
export JUPYTER_PLATFORM_DIRS=1
export PYDEVD_DISABLE_FILE_VALIDATION=1

"$venv/bin/python" - "$out" "$timeout" "${notebooks[@]}" <<'PY'
"""Execute notebooks in order with nbclient; stop at the first failing cell."""
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

out_dir, timeout, paths = Path(sys.argv[1]), int(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
out_dir.mkdir(parents=True, exist_ok=True)

for path in paths:
    nb = nbformat.read(path, as_version=4)
    stale = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))]
    if stale:
        sys.exit(f"notebooks.sh: {path} has outputs in cells {stale}; "
                 "clear all outputs before committing it")
    start = time.monotonic()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            extra_arguments=["--log-level=ERROR"],  # local kernel: no TCP warning
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    try:
        client.execute()
    except Exception as error:  # a failing cell, a timeout, a dead kernel
        nbformat.write(nb, out_dir / path.name)
        print(error, file=sys.stderr)
        sys.exit(f"notebooks.sh: {path} failed; the partly executed notebook is "
                 f"{out_dir / path.name}")
    nbformat.write(nb, out_dir / path.name)
    print(f"notebooks.sh: {path} ran in {time.monotonic() - start:.1f} s")
PY
