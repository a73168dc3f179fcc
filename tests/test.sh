#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need (s3rver from npm into tests/tools/,
# redis-server from Debian's packages), then runs the solution's tests and prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/install-test-deps.sh
log=$(mktemp)
set +e
dotnet test OssOrleans.sln -c Release --nologo "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# VSTest prints one "Passed!/Failed!  - Failed: F, Passed: P, Skipped: S, Total: T" line per test assembly.
awk '/(Passed|Failed)! +- Failed:/ {
        gsub(",", ""); for (i = 1; i <= NF; i++) {
          if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } n++ }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s; if (n == 0) exit 1 }' "$log" || { echo "no test assembly reported results"; rc=1; }
rm -f "$log"
exit "$rc"
