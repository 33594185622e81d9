#!/usr/bin/env bash
# Sets up, builds, and renders the demo sweep on this machine (embedded local
# mode: coordinator and node in one process, bound to loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=${1:-outputs/demo}
build/cli/reelfarm run configs/examples/demo.yaml --out "$out"
