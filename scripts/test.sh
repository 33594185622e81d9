#!/usr/bin/env bash
# Sets up, builds, and runs every test suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j"${REELFARM_JOBS:-2}" --timeout 600
# The weights-file parsers under libFuzzer with ASan/UBSan, briefly.
bash scripts/fuzz.sh "${REELFARM_FUZZ_SECONDS:-15}"
