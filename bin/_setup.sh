# Sourced by bin/run and bin/test: make .venv and install the project into it when
# pyproject.toml changed since the last install (a stamp keeps repeat runs fast).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
EXTRAS="${1:-}"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "Draftroom needs Python 3.11 or newer (found $("$PY" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv …"
  "$PY" -m venv .venv
fi
STAMP=".venv/.installed-$(cat pyproject.toml bin/_setup.sh | sha256sum | cut -c1-16)${EXTRAS:+-$EXTRAS}"
# A dev install (bin/test) holds everything bin/run needs.
if [ ! -f "$STAMP" ] && [ -z "$EXTRAS" ] && [ -f "$STAMP-dev" ]; then STAMP="$STAMP-dev"; fi
if [ ! -f "$STAMP" ]; then
  echo "Installing Draftroom${EXTRAS:+ with [$EXTRAS]} into .venv …"
  .venv/bin/python -m pip install --quiet --upgrade pip
  # setuptools says "Editable installation … be careful with folders in your working directory"
  # for every project laid out as ours (apps/, config/, workers/ at the top): that note alone
  # is silenced, in the build backend's process, which inherits PYTHONWARNINGS.
  PYTHONWARNINGS="ignore:Editable installation" \
    .venv/bin/python -m pip install --quiet -e ".${EXTRAS:+[$EXTRAS]}"
  if [ "$EXTRAS" = "dev" ]; then
    # The upscaler's tests need torch, torchvision and basicsr. basicsr 1.4.2's setup.py imports
    # torch, so it is built without build isolation, after torch is installed.
    echo "Installing the upscaler's torch + basicsr for its tests …"
    .venv/bin/python -m pip install --quiet "torch==2.14.1" "torchvision==0.29.1"
    .venv/bin/python -m pip install --quiet --no-build-isolation "basicsr==1.4.2"
  fi
  touch "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
