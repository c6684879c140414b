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
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
step unit npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$reports/unit.json"
step e2e npx vitest run --project e2e --no-file-parallelism --reporter=default --reporter=json --outputFile.json="$reports/e2e.json"

# One closing line in the plain form CI reads: "N passed, N failed". Tests come from vitest's
# JSON reports; a failed step that ran no test (typecheck, lint, a crash) counts as one failure.
counts=$(node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  for (const f of process.argv.slice(1)) {
    try { const r = JSON.parse(fs.readFileSync(f, "utf8")); passed += r.numPassedTests; failed += r.numFailedTests; } catch {}
  }
  console.log(passed, failed);
' "$reports/unit.json" "$reports/e2e.json")
passed=${counts% *}
failed_tests=${counts#* }

failed_steps=0
for r in "${results[@]}"; do
  case "$r" in
    "typecheck FAILED" | "lint FAILED") failed_steps=$((failed_steps + 1)) ;;
  esac
done
if [ "$failed" != 0 ] && [ "$failed_tests" = 0 ] && [ "$failed_steps" = 0 ]; then failed_steps=1; fi
summary=$(IFS=,; echo "${results[*]}")
printf '\nsteps: %s\n' "${summary//,/, }"
printf 'test: %d passed, %d failed\n' "$passed" "$((failed_tests + failed_steps))"
exit "$failed"
