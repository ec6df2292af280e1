#!/usr/bin/env bash
# Makes sure .venv is a working Python 3.12+ virtualenv with requirements-dev.txt installed.
#
# A .venv that is there but broken (interrupted creation, no pip, its Python gone or too old) is
# removed and built again, never reused. An existing working .venv is kept whatever Python made
# it; PYTHON=... is always checked (scripts/find-python.sh) and chooses the Python of a new one.
# Requirements are installed again when requirements*.txt are newer than the .venv/.installed stamp.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
VPY="$VENV/bin/python"
STAMP="$VENV/.installed"
PIP=(-m pip install --quiet --disable-pip-version-check)

broken_reason() {
  [ -e "$VENV" ] || [ -L "$VENV" ] || { echo "absent"; return; }
  [ -f "$VENV/pyvenv.cfg" ] || { echo "no pyvenv.cfg"; return; }
  [ -x "$VPY" ] || { echo "no $VPY"; return; }
  "$VPY" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 \
    || { echo "its Python does not run or is older than 3.12"; return; }
  "$VPY" -m pip --version >/dev/null 2>&1 || { echo "it has no pip"; return; }
}

# PYTHON given by hand is checked even when .venv is already fine (a typo should not pass unseen).
[ -z "${PYTHON:-}" ] || bash scripts/find-python.sh >/dev/null

reason=$(broken_reason)
if [ -n "$reason" ]; then
  python=$(bash scripts/find-python.sh)  # says what to install and fails when there is none
  if [ "$reason" != "absent" ]; then
    echo "$VENV is incomplete or broken ($reason): building it again."
    rm -rf "$VENV"  # a symlink is removed, not what it points to
  fi
  echo "Creating $VENV with $python ($("$python" --version 2>&1))"
  if ! "$python" -m venv "$VENV"; then
    rm -rf "$VENV"
    echo "Could not create $VENV with $python. On Debian/Ubuntu install the venv module:" >&2
    echo "  apt-get install python3-venv   (or python3.X-venv for the version above)" >&2
    exit 1
  fi
  "$VPY" "${PIP[@]}" --upgrade pip
  rm -f "$STAMP"
fi

if [ ! -f "$STAMP" ] || [ requirements.txt -nt "$STAMP" ] || [ requirements-dev.txt -nt "$STAMP" ]; then
  echo "Installing requirements-dev.txt into $VENV"
  "$VPY" "${PIP[@]}" -r requirements-dev.txt
  touch "$STAMP"
fi
