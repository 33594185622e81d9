#include "cli/sbatch_script.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace reelfarm::cli {
namespace {

// Shared by both shapes: logging, the drain trap and the requeue on USR2.
// $WORKERS is the pid of the srun that runs the workers; srun forwards the
// signal to every task, and a node drains on its first USR2 and hands back
// at once on a second.
constexpr char kPrologue[] = R"sh(set -euo pipefail

log() { echo "reelfarm-slurm[$(date +%T)]: $*" >&2; }
log "job ${SLURM_JOB_ID} (restart ${SLURM_RESTART_COUNT:-0}) on ${SLURM_JOB_NODELIST}"

WORKERS=
DRAIN_SIGNAL=
drain() {
  DRAIN_SIGNAL=$1
  log "SIG$1: draining the workers"
  if [[ -n $WORKERS ]]; then kill -USR2 "$WORKERS" 2>/dev/null || true; fi
}
trap 'drain USR2' USR2
trap 'drain TERM' TERM

# Waits for the workers to finish draining; a second signal interrupts the
# wait and is forwarded too.
# A trap interrupts `wait` (status > 128) while the step still runs; the
# wait that reaps it gives the step's own status, kept in WORKERS_RC.
WORKERS_RC=0
wait_workers() {
  while [[ -n $WORKERS ]] && kill -0 "$WORKERS" 2>/dev/null; do
    if wait "$WORKERS"; then WORKERS_RC=0; else WORKERS_RC=$?; fi
  done
  WORKERS=
}

# The workers' step, given the coordinator's address: one `reelfarm node`
# per node, or with PROCESS_GROUP one per GPU, all of them one process group
# that renders every video on every GPU of the job.
run_workers() {
  local srun_args=(--kill-on-bad-exit=0)
  local node=("$REELFARM" node --coordinator "$1" --token-file "$TOKEN_FILE"
    --drain-timeout "$DRAIN_TIMEOUT")
  if ((PROCESS_GROUP)); then
    srun_args+=(--ntasks-per-node="$TASKS_PER_NODE")
    ((GPUS_PER_NODE == 0)) || srun_args+=(--gpus-per-task=1)
    node+=(--group slurm)
  else
    srun_args+=(--ntasks-per-node=1)
    node+=(--devices-per-lane "$DEVICES_PER_LANE")
  fi
  ((IDLE_EXIT == 0)) || node+=(--exit-when-idle "$IDLE_EXIT")
  srun "${srun_args[@]}" "${node[@]}"
}

# Out of time (USR2 from --signal): give the allocation back and carry on in
# a new one from the durable state.
requeue_if_asked() {
  if [[ $DRAIN_SIGNAL == USR2 && $REQUEUE == 1 ]]; then
    log "requeueing job ${SLURM_JOB_ID}"
    scontrol requeue "$SLURM_JOB_ID"
  fi
}
)sh";

// The coordinator runs in the batch shell on the first node; it writes its
// address onto the shared filesystem once it listens, and the workers get it
// from there. Submitting the same sweep again resumes it: finished jobs are
// skipped, so a requeued job carries on.
constexpr char kCoordinatorBody[] = R"sh(
mkdir -p "$STATE_DIR"
if [[ -z $TOKEN_FILE ]]; then
  TOKEN_FILE=$STATE_DIR/token
  if [[ ! -s $TOKEN_FILE ]]; then
    (umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$TOKEN_FILE.$SLURM_JOB_ID" &&
      mv "$TOKEN_FILE.$SLURM_JOB_ID" "$TOKEN_FILE")
  fi
fi
HEAD=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n1)
ADDR_FILE=$STATE_DIR/coordinator-$SLURM_JOB_ID.address
rm -f "$ADDR_FILE"
"$REELFARM" coordinator --listen "$HEAD:$PORT" --address-file "$ADDR_FILE" \
  --state-dir "$STATE_DIR" --token-file "$TOKEN_FILE" --lease-ttl "$LEASE_TTL" \
  --shutdown-grace "$DRAIN_TIMEOUT" &
COORD=$!
for ((i = 0; i < 1200; i++)); do
  [[ -s $ADDR_FILE ]] && break
  if ! kill -0 "$COORD" 2>/dev/null; then log "the coordinator exited"; exit 1; fi
  sleep 0.1
done
[[ -s $ADDR_FILE ]] || { log "the coordinator wrote no address in 120 s"; exit 1; }
ADDR=$(<"$ADDR_FILE")
log "coordinator at $ADDR"

run_workers "$ADDR" &
WORKERS=$!
[[ -z $DRAIN_SIGNAL ]] || drain "$DRAIN_SIGNAL"
submit=("$REELFARM" submit "$SWEEP" --coordinator "$ADDR" --token-file "$TOKEN_FILE" --watch)
[[ -z $OUT ]] || submit+=(--out "$OUT")
"${submit[@]}" &
WATCH=$!

sweep_rc=
while [[ -z $DRAIN_SIGNAL ]]; do
  rc=0
  wait -n -p done_pid "$WATCH" "$WORKERS" || rc=$?
  if [[ ${done_pid:-} == "$WATCH" ]]; then
    sweep_rc=$rc
    log "sweep finished (rc $rc)"
    break
  fi
  if [[ ${done_pid:-} == "$WORKERS" ]]; then
    WORKERS=
    log "the workers ended (rc $rc) before the sweep did"
    break
  fi
done

# Idle workers leave at once; busy ones finish or hand back their jobs.
[[ -n $DRAIN_SIGNAL || -z $WORKERS ]] || kill -USR2 "$WORKERS" 2>/dev/null || true
wait_workers
[[ -n $sweep_rc ]] || kill -TERM "$WATCH" 2>/dev/null || true
kill -TERM "$COORD" 2>/dev/null || true
wait "$COORD" || true
rm -f "$ADDR_FILE"
requeue_if_asked
exit "${sweep_rc:-1}"
)sh";

// Workers join a coordinator that runs elsewhere (a login node). With
// IDLE_EXIT, each node exits once it has had no work for that long, and the
// job ends with the last of them.
constexpr char kWorkersBody[] = R"sh(
run_workers "$COORDINATOR" &
WORKERS=$!
[[ -z $DRAIN_SIGNAL ]] || drain "$DRAIN_SIGNAL"
wait_workers
log "the workers ended (status $WORKERS_RC)"
requeue_if_asked
exit "$WORKERS_RC"
)sh";

absl::Status CheckLine(absl::string_view what, absl::string_view value) {
  if (absl::StrContains(value, '\n') || absl::StrContains(value, '\r')) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be one line, got '", value, "'"));
  }
  return absl::OkStatus();
}

// An #SBATCH value is read by sbatch, not by a shell: it must be one word.
absl::Status CheckWord(absl::string_view what, absl::string_view value) {
  if (value.find_first_of(" \t\n\r'\"\\") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be one word, got '", value, "'"));
  }
  return absl::OkStatus();
}

std::string Assign(absl::string_view name, absl::string_view value) {
  return absl::StrCat(name, "=", ShellQuote(value), "\n");
}

}  // namespace

std::string ShellQuote(absl::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

absl::StatusOr<std::string> RenderSbatchScript(const SbatchOptions& o) {
  const std::pair<const char*, const std::string*> words[] = {
      {"--job-name", &o.job_name},
      {"--partition", &o.partition},
      {"--time", &o.time},
      {"--account", &o.account},
      {"--output", &o.output}};
  for (const auto& [what, value] : words) {
    if (absl::Status st = CheckWord(what, *value); !st.ok()) return st;
  }
  for (const std::string& line : o.extra_lines) {
    if (absl::Status st = CheckLine("--sbatch-line", line); !st.ok()) {
      return st;
    }
  }
  if (o.reelfarm.empty()) {
    return absl::InvalidArgumentError("the reelfarm binary is unknown");
  }
  if (o.nodes == 0 || o.lease_ttl_s <= 0 || o.drain_timeout_s < 0) {
    return absl::InvalidArgumentError(
        "--nodes and --lease-ttl must be positive, --drain-timeout not "
        "negative");
  }
  if (o.process_group && (o.devices_per_lane != 1 || o.array > 0)) {
    return absl::InvalidArgumentError(
        "--process-group takes neither --devices-per-lane nor --array: its "
        "members are every GPU of the job");
  }
  if (o.devices_per_lane == 0 ||
      (o.gpus_per_node > 0 && o.devices_per_lane > o.gpus_per_node)) {
    return absl::InvalidArgumentError(
        "--devices-per-lane must be at least 1 and at most --gpus-per-node");
  }
  if (o.workers_only) {
    if (o.coordinator.empty() || o.token_file.empty()) {
      return absl::InvalidArgumentError(
          "--workers-only needs --coordinator HOST:PORT and --token-file "
          "(the coordinator's token)");
    }
  } else {
    if (o.sweep.empty() || o.state_dir.empty()) {
      return absl::InvalidArgumentError("a sweep file and --state-dir needed");
    }
    if (o.array > 0) {
      return absl::InvalidArgumentError("--array needs --workers-only");
    }
  }

  std::string s = "#!/bin/bash\n";
  const auto sbatch = [&s](absl::string_view line) {
    absl::StrAppend(&s, "#SBATCH ", line, "\n");
  };
  sbatch(absl::StrCat("--job-name=", o.job_name));
  sbatch(absl::StrCat("--nodes=", o.nodes));
  // A process group runs a member per GPU.
  const uint32_t tasks_per_node =
      o.process_group ? std::max<uint32_t>(1, o.gpus_per_node) : 1;
  sbatch(absl::StrCat("--ntasks-per-node=", tasks_per_node));
  if (o.array > 0) sbatch(absl::StrCat("--array=0-", o.array - 1));
  if (o.gpus_per_node > 0) {
    sbatch(absl::StrCat("--gpus-per-node=", o.gpus_per_node));
  }
  if (!o.partition.empty()) sbatch(absl::StrCat("--partition=", o.partition));
  if (!o.time.empty()) sbatch(absl::StrCat("--time=", o.time));
  if (!o.account.empty()) sbatch(absl::StrCat("--account=", o.account));
  if (!o.output.empty()) sbatch(absl::StrCat("--output=", o.output));
  // USR2, not USR1: NCCL may install its own USR1 handler.
  sbatch(absl::StrCat("--signal=B:USR2@", o.signal_seconds));
  sbatch(o.requeue ? "--requeue" : "--no-requeue");
  // A requeued run appends to the first run's log instead of replacing it.
  sbatch("--open-mode=append");
  for (const std::string& line : o.extra_lines) {
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&l, "#SBATCH "))
      absl::ConsumePrefix(&l, "#SBATCH");
    sbatch(absl::StripAsciiWhitespace(l));
  }
  s += "# Written by `reelfarm slurm`";
  s += o.workers_only ? ": workers for a coordinator outside this job.\n"
                      : ": coordinator on the first node, a worker per node.\n";
  s += Assign("REELFARM", o.reelfarm);
  s += Assign("TOKEN_FILE", o.token_file);
  s += absl::StrCat("DRAIN_TIMEOUT=", o.drain_timeout_s, "\n");
  s += absl::StrCat("DEVICES_PER_LANE=", o.devices_per_lane, "\n");
  s += absl::StrCat("PROCESS_GROUP=", o.process_group ? 1 : 0, "\n");
  s += absl::StrCat("TASKS_PER_NODE=", tasks_per_node, "\n");
  s += absl::StrCat("GPUS_PER_NODE=", o.gpus_per_node, "\n");
  s += absl::StrCat("IDLE_EXIT=", o.workers_only ? o.idle_exit_s : 0, "\n");
  s += absl::StrCat("REQUEUE=", o.requeue ? 1 : 0, "\n");
  if (o.workers_only) {
    s += Assign("COORDINATOR", o.coordinator);
  } else {
    s += Assign("SWEEP", o.sweep);
    s += Assign("STATE_DIR", o.state_dir);
    s += Assign("OUT", o.out);
    s += absl::StrCat("PORT=", o.port, "\n");
    s += absl::StrCat("LEASE_TTL=", o.lease_ttl_s, "\n");
  }
  s += kPrologue;
  s += o.workers_only ? kWorkersBody : kCoordinatorBody;
  return s;
}

}  // namespace reelfarm::cli
