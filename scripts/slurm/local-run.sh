#!/usr/bin/env bash
# local-run.sh SWEEP.yaml [reelfarm slurm flags...]: renders a sweep through
# the sbatch script `reelfarm slurm` writes, on a throw-away SLURM cluster on
# this machine (../shared/slurm-local: 3 nodes x 2 fake GPUs; needs root),
# then stops the cluster. Outputs, state and logs stay in a new folder.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SWEEP=$(readlink -f "${1:?usage: local-run.sh SWEEP.yaml [flags...]}")
shift
REELFARM=${REELFARM:-$ROOT/build/cli/reelfarm}
SLURM_LOCAL=${REELFARM_SLURM_LOCAL:-$ROOT/../shared/slurm-local}
W=$(mktemp -d)
chmod 755 "$W" # munged needs every folder above its socket world-executable
stop_cluster() { "$SLURM_LOCAL/stop.sh" "$W/cluster" >/dev/null 2>&1 || true; }
trap stop_cluster EXIT
"$SLURM_LOCAL/start.sh" "$W/cluster" >/dev/null
# shellcheck disable=SC1091
source "$W/cluster/env.sh"
job=$("$REELFARM" slurm "$SWEEP" --submit --nodes 2 --gpus-per-node 2 \
  --state-dir "$W/state" --out "$W/out" --output "$W/job.log" \
  --script "$W/job.sbatch" --sbatch-line "--chdir=$W" "$@")
echo "job $job; log $W/job.log"
while [[ -n $(squeue -h -j "$job" 2>/dev/null) ]]; do sleep 1; done
state=$(scontrol show job -o "$job" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
echo "job $job: $state; outputs and manifest.json in $W/out"
[[ $state == COMPLETED ]]
