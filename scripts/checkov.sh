#!/usr/bin/env bash
# Run checkov over terraform/ offline, from its own virtual environment.
#
# checkov stays out of .venv: there pip would pick an old checkov that pulls
# urllib3 1.x, packaging<24 and an older pytest, and its bc-python-hcl2 would
# overwrite python-hcl2's hcl2 package. The first run creates .venv-checkov
# (about a minute); later runs reuse it. Extra arguments go to checkov.
# Exit status: checkov's own (1 when any check fails).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${CHECKOV_VENV:-.venv-checkov}"
PIN="checkov==3.3.30"
PYTHON="${PYTHON:-python3}"

if ! "$VENV/bin/checkov" --version 2>/dev/null | grep -qx "${PIN#checkov==}"; then
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet "$PIN"
fi

exec "$VENV/bin/checkov" -d terraform --framework terraform --skip-download --compact --quiet "$@"
