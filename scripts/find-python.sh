#!/usr/bin/env bash
# Prints the path of a Python 3.12 or newer that really runs, or says what to install and fails.
#
# PYTHON=... (given by hand, e.g. `make test PYTHON=/opt/python3.13/bin/python3`) is checked and
# used as it is. Otherwise the first that runs and is recent enough of: python3.14, python3.13,
# python3.12 on the PATH, `uv python find '>=3.12'`, python3 on the PATH, /usr/bin/python3,
# /usr/local/bin/python3, then pyenv's versions (newest first), pyenv on the PATH or not.
# A candidate counts only if it runs: pyenv's python3.12 shim exists but fails without
# PYENV_VERSION, so it is skipped like a missing one.
set -uo pipefail

recent() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }
describe() { "$1" --version 2>&1 | head -n 1 || true; }

if [ -n "${PYTHON:-}" ]; then
  if recent "$PYTHON"; then
    command -v "$PYTHON" || echo "$PYTHON"
    exit 0
  fi
  if command -v "$PYTHON" >/dev/null 2>&1; then
    echo "PYTHON=$PYTHON is not Python 3.12 or newer, or does not run: $(describe "$PYTHON")" >&2
  else
    echo "PYTHON=$PYTHON: no such program." >&2
  fi
  echo "Give a Python 3.12+ (make ... PYTHON=/path/to/python3.12) or leave PYTHON out to let the Makefile look." >&2
  exit 1
fi

candidates=(python3.14 python3.13 python3.12)
if command -v uv >/dev/null 2>&1; then
  found=$(uv python find '>=3.12' 2>/dev/null) && candidates+=("$found")
fi
candidates+=(python3 /usr/bin/python3 /usr/local/bin/python3)
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
if [ -d "$pyenv_root/versions" ]; then
  while IFS= read -r version; do
    candidates+=("$version")
  done < <(ls -d "$pyenv_root"/versions/3.*/bin/python3 2>/dev/null | sort -rV)
fi

for candidate in "${candidates[@]}"; do
  if recent "$candidate"; then
    command -v "$candidate" || echo "$candidate"
    exit 0
  fi
done

cat >&2 <<EOF
Coopmarket needs Python 3.12 or newer, and none was found.
Looked for: python3.14, python3.13, python3.12, uv's Pythons, python3 ($(describe python3)),
/usr/bin/python3, /usr/local/bin/python3 and pyenv's versions in $pyenv_root/versions.
Install one, then run make again:
  Debian 13, Ubuntu 24.04 or newer:  apt-get install python3 python3-venv
  Debian 12 and older systems:       uv python install 3.12   (https://docs.astral.sh/uv/)
                                     or pyenv install 3.12
  macOS (Homebrew):                  brew install python@3.12
or name one by hand: make test PYTHON=/path/to/python3.12
EOF
exit 1
