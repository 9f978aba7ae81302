#!/usr/bin/env bash
# The unit tests of src/python (npm run test:python): pytest, from the Python tools set-up installs,
# on test/python. They make their own throwaway venvs of this machine's python3; no Docker.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${NFHOT_TEST_CACHE:-$HOME/.cache/nfhot-test}/python-tools"
[ -x "$tools/bin/pytest" ] || { echo "test:python: pytest is not installed (bash scripts/setup.sh installs it)" >&2; exit 1; }
PYTHONDONTWRITEBYTECODE=1 exec "$tools/bin/python" -m pytest -q -p no:cacheprovider test/python "$@"
