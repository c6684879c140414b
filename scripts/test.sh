#!/usr/bin/env bash
# `npm test`: everything the CI runs. Every step runs even after a failure, so one run shows all
# problems; the last line sums them up and the exit code is non-zero if any step failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure.sh

results=()
failed=0
step() {
  local name=$1
  shift
  printf '\n== %s: %s\n' "$name" "$*" >&2
  if "$@"; then
    results+=("$name ok")
  else
    results+=("$name FAILED")
    failed=1
  fi
}

step typecheck npm run -s typecheck
step lint npm run -s lint
step unit npx vitest run --project unit
step e2e npx vitest run --project e2e --no-file-parallelism

summary=$(IFS=,; echo "${results[*]}")
if [ "$failed" = 0 ]; then
  printf '\ntest: all passed (%s)\n' "${summary//,/, }"
else
  printf '\ntest: FAILED (%s)\n' "${summary//,/, }"
fi
exit "$failed"
