#!/usr/bin/env bash
# slurm_bench.sh [JOBS] [LOAD_MS] [MS_PER_JOB]: one sweep of JOBS test-pattern
# jobs, each renderer paying LOAD_MS of simulated model load, rendered on a
# local SLURM cluster (3 nodes x 2 fake GPUs; ../shared/slurm-local) two ways:
#   (a) one sbatch job per sweep point, each `reelfarm run` on a 1-job sweep
#       with 1 GPU: every job loads the model;
#   (b) the script `reelfarm slurm` writes: 3 nodes x 2 GPUs, one worker per
#       node, a lane per GPU: each lane loads the model once.
# Prints both wall times (submit to last job done) and their ratio. Needs
# root (slurmd) and build/cli/reelfarm.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-200}
LOAD_MS=${2:-2000}
MS_PER_JOB=${3:-100}
REELFARM=$PWD/build/cli/reelfarm
SLURM_LOCAL=${REELFARM_SLURM_LOCAL:-$PWD/../shared/slurm-local}
[[ -x $REELFARM ]] || { echo "build reelfarm first (scripts/setup.sh)" >&2; exit 1; }

W=$(mktemp -d)
chmod 755 "$W" # munged needs every folder above its socket world-executable
CLUSTER=$W/cluster
stop_cluster() { "$SLURM_LOCAL/stop.sh" "$CLUSTER" >/dev/null 2>&1 || true; }
trap stop_cluster EXIT
SLURM_LOCAL_NODES=3 SLURM_LOCAL_GPUS=2 "$SLURM_LOCAL/start.sh" "$CLUSTER" >/dev/null
# shellcheck disable=SC1091
source "$CLUSTER/env.sh"

now() { date +%s.%N; }
# Waits until none of the given jobs is queued or running.
wait_jobs() {
  while [[ -n $(squeue -h -j "$1" 2>/dev/null) ]]; do sleep 0.5; done
}
failed_jobs() { # how many of the jobs did not complete
  squeue -h -t all -j "$1" -o %T 2>/dev/null | grep -vc '^COMPLETED$' || true
}

prompts=()
for ((i = 0; i < JOBS; i++)); do prompts+=("a test pattern number $i"); done
renderer="{name: test-pattern, ms_per_job: $MS_PER_JOB, load_ms: $LOAD_MS}"

# (a) one job per sweep point.
mkdir -p "$W/a"
for ((i = 0; i < JOBS; i++)); do
  cat >"$W/a/point-$i.yaml" <<YAML
name: point-$i
renderer: $renderer
formats: [frames]
defaults: {W: 16, H: 16, L: 2, steps: 2, guidance_scale: 7, seed: 1, prompt: "${prompts[$i]}"}
YAML
done
t0=$(now)
ids=()
for ((i = 0; i < JOBS; i++)); do
  ids+=("$(sbatch --parsable --job-name=point -N1 -n1 --gpus-per-node=1 \
    --chdir="$W/a" -o "$W/a/point-$i.log" \
    --wrap="$(printf '%q run %q --out %q' "$REELFARM" "$W/a/point-$i.yaml" "$W/a/out-$i")")")
done
submitted_a=$(now)
a_list=$(IFS=,; echo "${ids[*]}")
wait_jobs "$a_list"
t1=$(now)
bad_a=$(failed_jobs "$a_list")

# (b) the whole sweep through reelfarm's sbatch script.
mkdir -p "$W/b"
{
  echo "name: bench"
  echo "renderer: $renderer"
  echo "formats: [frames]"
  echo "defaults: {W: 16, H: 16, L: 2, steps: 2, guidance_scale: 7, seed: 1}"
  echo "grid:"
  echo "  prompt:"
  for p in "${prompts[@]}"; do echo "    - \"$p\""; done
} >"$W/b/sweep.yaml"
t2=$(now)
job_b=$("$REELFARM" slurm "$W/b/sweep.yaml" --submit --nodes 3 --gpus-per-node 2 \
  --state-dir "$W/b/state" --out "$W/b/out" --output "$W/b/job.log" \
  --script "$W/b/job.sbatch" --sbatch-line "--chdir=$W/b" 2>/dev/null)
wait_jobs "$job_b"
t3=$(now)
bad_b=$(failed_jobs "$job_b")
done_b=$(grep -c '"status": "done"' "$W/b/out/manifest.json" || true)
done_a=$(cat "$W"/a/out-*/manifest.json 2>/dev/null | grep -c '"status": "done"' || true)

awk -v jobs="$JOBS" -v load="$LOAD_MS" -v ms="$MS_PER_JOB" \
  -v a="$(awk -v x="$t0" -v y="$t1" 'BEGIN{print y-x}')" \
  -v sub_a="$(awk -v x="$t0" -v y="$submitted_a" 'BEGIN{print y-x}')" \
  -v b="$(awk -v x="$t2" -v y="$t3" 'BEGIN{print y-x}')" \
  -v da="$done_a" -v db="$done_b" -v fa="$bad_a" -v fb="$bad_b" 'BEGIN {
  printf "%d jobs, load_ms %d, ms_per_job %d, 3 nodes x 2 GPUs\n", jobs, load, ms
  printf "(a) one sbatch job per point: %7.1f s (sbatch loop %.1f s; %d done, %d jobs not COMPLETED)\n", a, sub_a, da, fa
  printf "(b) reelfarm slurm:           %7.1f s (%d done, %d jobs not COMPLETED)\n", b, db, fb
  printf "ratio a/b: %.1fx\n", a / b
}'
