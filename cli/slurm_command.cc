// `reelfarm slurm SWEEP.yaml`: writes an sbatch script that renders the sweep
// on a SLURM allocation, and with --submit hands it to sbatch.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/follow.h"
#include "cli/sbatch_script.h"
#include "common/errors.h"
#include "sweep/sweep_loader.h"

namespace reelfarm::cli {
namespace {

std::string Absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

std::string SelfPath() {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "reelfarm" : p.string();
}

// Runs `sbatch --parsable SCRIPT` and returns the job id it prints.
absl::StatusOr<std::string> Submit(const std::string& script) {
  const std::string command =
      absl::StrCat("sbatch --parsable ", ShellQuote(script));
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return ErrnoToStatus(errno, "sbatch");
  std::string out;
  char buf[256];
  while (size_t n = std::fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
  const int status = ::pclose(pipe);
  if (status != 0) {
    return absl::InternalError(
        absl::StrCat("sbatch failed (", command, "), status ", status));
  }
  // --parsable prints "id" or "id;cluster".
  std::string id(absl::StripAsciiWhitespace(out.substr(0, out.find(';'))));
  if (id.empty()) return absl::InternalError("sbatch printed no job id");
  return id;
}

}  // namespace

int SlurmCommand(const std::vector<std::string>& args) {
  FlagSet flags(
      "reelfarm slurm SWEEP.yaml [flags]\n"
      "       reelfarm slurm --workers-only --coordinator HOST:PORT "
      "--token-file FILE [flags]",
      "Writes an sbatch script that renders a sweep on a SLURM allocation: "
      "the\ncoordinator on the first node, one `reelfarm node` per node "
      "(srun), state in\n--state-dir on the shared filesystem. SIGUSR2 "
      "before the time limit (or SIGTERM)\ndrains the workers; with "
      "--requeue the job comes back and resumes.\nWith --workers-only the "
      "script runs only workers (an --array of 1-node jobs,\nor --nodes "
      "nodes) for a coordinator that runs elsewhere.");
  SbatchOptions o;
  std::string script;
  bool submit = false;
  flags.String("script", &script,
               "where to write the script ('-': stdout; default "
               "reelfarm-<sweep>.sbatch, or reelfarm-workers.sbatch)");
  flags.Bool("submit", &submit, "submit it with sbatch; print the job id");
  flags.Uint("nodes", &o.nodes, "nodes, one worker on each");
  flags.Uint("gpus-per-node", &o.gpus_per_node, "GPUs per node (GRES)");
  flags.String("partition", &o.partition, "SLURM partition");
  flags.String("time", &o.time, "time limit, e.g. 04:00:00");
  flags.String("account", &o.account, "SLURM account");
  flags.String("job-name", &o.job_name, "SLURM job name");
  flags.String("output", &o.output,
               "the job's log file (sbatch --output, e.g. %x-%j.out)");
  flags.StringList("sbatch-line", &o.extra_lines,
                   "another #SBATCH line, e.g. '--constraint=a100'");
  flags.Uint("signal-seconds", &o.signal_seconds,
             "SIGUSR2 to the batch shell this long before the time limit");
  flags.Double("drain-timeout", &o.drain_timeout_s,
               "seconds a worker may take to finish its jobs when draining");
  flags.Uint("devices-per-lane", &o.devices_per_lane,
             "GPUs each worker lane drives together (for devices_per_video)");
  flags.Bool("process-group", &o.process_group,
             "a worker per GPU, all one process group: every video renders "
             "on all the\njob's GPUs, across its nodes");
  flags.Bool("requeue", &o.requeue,
             "requeue when preempted or drained before the time limit; the "
             "new run resumes");
  flags.String("token-file", &o.token_file,
               "the coordinator's token (default: <state-dir>/token, made "
               "by the job if missing)");
  o.state_dir = "reelfarm-state";
  flags.String("state-dir", &o.state_dir,
               "coordinator state on a shared filesystem; the same folder "
               "resumes the sweep");
  flags.String("out", &o.out, "the sweep's output folder (shared)");
  flags.Uint("port", &o.port, "the coordinator's port (0: any free one)");
  flags.Double("lease-ttl", &o.lease_ttl_s,
               "the coordinator's --lease-ttl: how long a requeued run waits "
               "for the jobs its killed workers held");
  flags.Bool("workers-only", &o.workers_only,
             "only workers, for a coordinator outside the job");
  flags.String("coordinator", &o.coordinator,
               "with --workers-only: the coordinator's host:port");
  flags.Uint("array", &o.array,
             "with --workers-only: a job array of this many 1-node jobs");
  flags.Uint("idle-exit", &o.idle_exit_s,
             "with --workers-only: a worker exits after this many seconds "
             "without work (0: never)");
  o.reelfarm = SelfPath();
  flags.String("reelfarm", &o.reelfarm, "the reelfarm binary the job runs");
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) return Fail("slurm", positional.status());
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return kExitOk;
  }
  if (positional->size() != (o.workers_only ? 0u : 1u)) {
    return Fail("slurm",
                absl::InvalidArgumentError(
                    o.workers_only ? "--workers-only takes no sweep file"
                                   : "needs one SWEEP.yaml (see --help)"));
  }
  if (o.array > 0 && o.nodes != 1) {
    return Fail("slurm", absl::InvalidArgumentError(
                             "--array makes 1-node jobs; leave out --nodes"));
  }
  if (!o.workers_only) {
    o.sweep = Absolute((*positional)[0]);
    // A mistake in the sweep shows now, not when the job starts.
    config::LoadOptions load;
    load.check_model_paths = false;
    if (absl::Status st = config::LoadSweepFile(o.sweep, load).status();
        !st.ok()) {
      return Fail("slurm", st);
    }
    o.state_dir = Absolute(o.state_dir);
    o.out = Absolute(o.out);
  }
  o.token_file = Absolute(o.token_file);
  o.reelfarm = Absolute(o.reelfarm);
  absl::StatusOr<std::string> text = RenderSbatchScript(o);
  if (!text.ok()) return Fail("slurm", text.status());
  if (script == "-") {
    std::fputs(text->c_str(), stdout);
    if (!submit) return kExitOk;
    return Fail("slurm", absl::InvalidArgumentError(
                             "--submit needs the script in a file"));
  }
  if (script.empty()) {
    script = o.workers_only
                 ? "reelfarm-workers.sbatch"
                 : absl::StrCat("reelfarm-",
                                std::filesystem::path(o.sweep).stem().string(),
                                ".sbatch");
  }
  {
    std::ofstream f(script, std::ios::trunc);
    f << *text;
    f.close();
    if (!f) return Fail("slurm", ErrnoToStatus(errno, script));
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_exec,
                               std::filesystem::perm_options::add);
  std::fprintf(stderr, "wrote %s\n", script.c_str());
  if (!submit) return kExitOk;
  absl::StatusOr<std::string> id = Submit(script);
  if (!id.ok()) return Fail("slurm", id.status());
  std::printf("%s\n", id->c_str());
  return kExitOk;
}

}  // namespace reelfarm::cli
