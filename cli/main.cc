// reelfarm: one binary, one subcommand per role.

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/errors.h"

namespace {

constexpr char kUsage[] =
    "usage: reelfarm COMMAND [flags]\n"
    "\n"
    "Batch-render text-to-video sweeps (AnimateDiff) on one machine or a "
    "cluster.\n"
    "\n"
    "commands:\n"
    "  run SWEEP.yaml      render a sweep here: coordinator and node in one "
    "process\n"
    "  coordinator         serve sweeps to nodes over gRPC\n"
    "  node                render jobs leased from a coordinator\n"
    "  submit SWEEP.yaml   send a sweep to a coordinator\n"
    "  status [SWEEP_ID]   show sweeps, or one sweep's progress\n"
    "  watch SWEEP_ID      follow a sweep until it finishes\n"
    "  cancel SWEEP_ID     stop a sweep's remaining jobs\n"
    "  resume SWEEP_ID     queue failed, cancelled and lost jobs again\n"
    "  slurm SWEEP.yaml    write (and --submit) an sbatch script for a sweep\n"
    "  make-tiny-model DIR write a small random model for demos and tests\n"
    "\n"
    "'reelfarm COMMAND --help' describes each command.\n"
    "exit codes: 0 done, 1 failure, 2 bad input\n";

struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>&);
};

constexpr Command kCommands[] = {
    {"run", reelfarm::cli::RunCommand},
    {"coordinator", reelfarm::cli::CoordinatorCommand},
    {"node", reelfarm::cli::NodeCommand},
    {"submit", reelfarm::cli::SubmitCommand},
    {"status", reelfarm::cli::StatusCommand},
    {"watch", reelfarm::cli::WatchCommand},
    {"cancel", reelfarm::cli::CancelCommand},
    {"resume", reelfarm::cli::ResumeCommand},
    {"slurm", reelfarm::cli::SlurmCommand},
    {"make-tiny-model", reelfarm::cli::MakeTinyModelCommand},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 ||
      std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? reelfarm::kExitBadInput : reelfarm::kExitOk;
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) == 0) return c.run(args);
  }
  std::fprintf(stderr, "reelfarm: unknown command '%s'\n\n%s", argv[1], kUsage);
  return reelfarm::kExitBadInput;
}
