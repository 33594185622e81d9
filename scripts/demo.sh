#!/usr/bin/env bash
# Sets up, builds, and renders the demo sweep on this machine (embedded local
# mode: coordinator and node in one process, bound to loopback) with the real
# AnimateDiff pipeline on a tiny random model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo
[ -f build/tiny-model/model_index.json ] ||
  build/cli/reelfarm make-tiny-model build/tiny-model >/dev/null
out=${1:-outputs/demo}
build/cli/reelfarm run configs/examples/demo.yaml --out "$out"
