#!/usr/bin/env bash
# One style, checked (npm run lint, the first step of npm test): Biome formats and lints the
# TypeScript and JavaScript, ruff the Python nfhot runs inside images. A diff fails it; `npm run
# format` writes both.
set -euo pipefail
cd "$(dirname "$0")/.."
ruff=$(command -v ruff || echo "${NFHOT_TEST_CACHE:-$HOME/.cache/nfhot-test}/python-tools/bin/ruff")
[ -x "$ruff" ] || { echo "lint: ruff is not installed (bash scripts/setup.sh installs it)" >&2; exit 1; }
if [ "${1:-}" = --write ]; then
  npx biome check --write
  "$ruff" check --fix
  "$ruff" format
else
  npx biome check
  "$ruff" check
  "$ruff" format --check
fi
