#!/usr/bin/env bash
# `npm run up`: make the checkout ready (deps, build, Docker, example image), then run Gantry.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure.sh
exec node dist/cli/main.js up "$@"
