#ifndef REELFARM_CLI_SBATCH_SCRIPT_H_
#define REELFARM_CLI_SBATCH_SCRIPT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reelfarm::cli {

// What `reelfarm slurm` puts into an sbatch script. Paths should be absolute:
// the job may start in another folder on another machine.
struct SbatchOptions {
  std::string reelfarm;  // the binary the job runs
  std::string job_name = "reelfarm";
  uint32_t nodes = 1;
  uint32_t gpus_per_node = 0;  // 0: no --gpus-per-node line
  std::string partition;
  std::string time;  // sbatch --time, e.g. 04:00:00
  std::string account;
  std::string output;                    // sbatch --output (%j etc. allowed)
  std::vector<std::string> extra_lines;  // more #SBATCH lines
  // The batch shell gets SIGUSR2 this long before the time limit and
  // drains the workers.
  uint32_t signal_seconds = 300;
  double drain_timeout_s = 120;  // passed to every `reelfarm node`
  // Passed to every `reelfarm node`: GPUs each lane drives together, for
  // sweeps with devices_per_video.
  uint32_t devices_per_lane = 1;
  // One worker per GPU (--gpus-per-node of them on each node, else one),
  // all of them one process group (`reelfarm node --group slurm`): every
  // video renders on all the job's GPUs, across its nodes.
  bool process_group = false;
  bool requeue = false;    // --requeue; drained on USR2: requeue
  std::string token_file;  // empty: <state_dir>/token, made if missing

  // Coordinator in the job (the default shape).
  std::string sweep;      // the sweep file the job submits
  std::string state_dir;  // shared filesystem: survives requeues
  std::string out;        // --out for the sweep; empty: the sweep's own
  uint32_t port = 0;      // coordinator port on the first node; 0: any
  // Leases held by the workers of a run that SLURM killed come back after
  // this long, so keep it short: a requeued run waits for them.
  double lease_ttl_s = 10;

  // Workers only, joining a coordinator that runs elsewhere.
  bool workers_only = false;
  std::string coordinator;  // host:port
  uint32_t array = 0;       // >0: a job array of that many 1-node tasks
  // Each worker exits after it has had no work for this long (`reelfarm
  // node --exit-when-idle`); 0: they run until the time limit or scancel.
  uint32_t idle_exit_s = 0;
};

// The script, or InvalidArgument for options that cannot go into one (a
// newline in an #SBATCH value, a missing sweep or coordinator...).
absl::StatusOr<std::string> RenderSbatchScript(const SbatchOptions& options);

// `s` as one bash word: single-quoted, with ' written as '\''.
std::string ShellQuote(absl::string_view s);

}  // namespace reelfarm::cli

#endif  // REELFARM_CLI_SBATCH_SCRIPT_H_
