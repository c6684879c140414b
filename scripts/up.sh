#!/usr/bin/env bash
# `npm run up`: make the checkout ready (deps, build, Docker, example image), then run Gantry.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure.sh
# The young generation as bin/gantry sets it (see there).
exec node --max-semi-space-size=64 dist/cli/main.js up "$@"
