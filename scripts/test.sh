#!/usr/bin/env bash
# Sets up, builds, and runs every test: the weights-file parsers briefly
# under libFuzzer (ASan/UBSan), then every suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh all
bash scripts/fuzz.sh "${REELFARM_FUZZ_SECONDS:-15}"
ctest --test-dir build --output-on-failure -j"${REELFARM_JOBS:-2}" --timeout 600
