#include "cli/sbatch_script.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/match.h"

namespace reelfarm::cli {
namespace {

SbatchOptions Full() {
  SbatchOptions o;
  o.reelfarm = "/opt/reelfarm/bin/reelfarm";
  o.sweep = "/shared/it's a sweep $(rm -rf ~).yaml";
  o.state_dir = "/shared/state";
  o.out = "/shared/out dir";
  o.nodes = 3;
  o.gpus_per_node = 2;
  o.partition = "gpu";
  o.time = "01:00:00";
  o.account = "proj1";
  o.extra_lines = {"--constraint=a100", "#SBATCH --exclusive"};
  o.signal_seconds = 90;
  o.requeue = true;
  o.devices_per_lane = 2;
  return o;
}

// bash -n: the script parses, whatever went into it.
bool BashParses(const std::string& script) {
  char path[] = "/tmp/sbatch_script_testXXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return false;
  ::close(fd);
  std::ofstream(path) << script;
  const int rc =
      std::system((std::string("bash -n ") + path + " 2>/dev/null").c_str());
  std::remove(path);
  return rc == 0;
}

TEST(SbatchScriptTest, ShellQuoteSurvivesQuotes) {
  EXPECT_EQ(ShellQuote("plain"), "'plain'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote(""), "''");
}

TEST(SbatchScriptTest, CoordinatorShapeHasDirectivesAndQuotedPaths) {
  absl::StatusOr<std::string> s = RenderSbatchScript(Full());
  ASSERT_TRUE(s.ok()) << s.status();
  for (const char* line :
       {"#SBATCH --nodes=3\n",
        "#SBATCH --ntasks-per-node=1\n",
        "#SBATCH --gpus-per-node=2\n",
        "#SBATCH --partition=gpu\n",
        "#SBATCH --time=01:00:00\n",
        "#SBATCH --account=proj1\n",
        "#SBATCH --signal=B:USR2@90\n",
        "#SBATCH --requeue\n",
        "#SBATCH --constraint=a100\n",
        "#SBATCH --exclusive\n",
        "SWEEP='/shared/it'\\''s a sweep $(rm -rf ~).yaml'\n",
        "OUT='/shared/out dir'\n",
        "REQUEUE=1\n",
        "LEASE_TTL=10\n",
        "DEVICES_PER_LANE=2\n",
        "--devices-per-lane \"$DEVICES_PER_LANE\"",
        "trap 'drain USR2' USR2",
        "trap 'drain TERM' TERM",
        "run_workers \"$ADDR\" &",
        "PROCESS_GROUP=0\n",
        "--address-file",
        "scontrol show hostnames"}) {
    EXPECT_TRUE(absl::StrContains(*s, line)) << line << "\n" << *s;
  }
  EXPECT_FALSE(absl::StrContains(*s, "--array"));
  // Every #SBATCH line comes before the first command, or sbatch ignores it.
  const size_t first_command = s->find("\nset -euo pipefail");
  EXPECT_EQ(s->find("#SBATCH", first_command), std::string::npos);
  EXPECT_TRUE(BashParses(*s));
}

TEST(SbatchScriptTest, ProcessGroupRunsAMemberPerGpu) {
  SbatchOptions o = Full();
  o.devices_per_lane = 1;
  o.process_group = true;
  absl::StatusOr<std::string> s = RenderSbatchScript(o);
  ASSERT_TRUE(s.ok()) << s.status();
  for (const char* line : {"#SBATCH --ntasks-per-node=2\n", "PROCESS_GROUP=1\n",
                           "TASKS_PER_NODE=2\n", "GPUS_PER_NODE=2\n",
                           "--gpus-per-task=1", "node+=(--group slurm)"}) {
    EXPECT_TRUE(absl::StrContains(*s, line)) << line << "\n" << *s;
  }
  EXPECT_TRUE(BashParses(*s));
  o.devices_per_lane = 2;  // a member drives one GPU
  EXPECT_EQ(RenderSbatchScript(o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SbatchScriptTest, WorkersOnlyArray) {
  SbatchOptions o;
  o.reelfarm = "/bin/reelfarm";
  o.workers_only = true;
  o.coordinator = "login1:7400";
  o.token_file = "/home/me/.reelfarm-token";
  o.array = 8;
  o.gpus_per_node = 4;
  absl::StatusOr<std::string> s = RenderSbatchScript(o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(absl::StrContains(*s, "#SBATCH --array=0-7\n"));
  EXPECT_TRUE(absl::StrContains(*s, "#SBATCH --no-requeue\n"));
  EXPECT_TRUE(absl::StrContains(*s, "COORDINATOR='login1:7400'\n"));
  EXPECT_FALSE(absl::StrContains(*s, "reelfarm\" coordinator"));
  EXPECT_FALSE(absl::StrContains(*s, "SWEEP="));
  EXPECT_TRUE(absl::StrContains(*s, "IDLE_EXIT=0\n"));
  EXPECT_TRUE(BashParses(*s));

  // Idle workers exit on their own; the script does not poll the
  // coordinator.
  o.idle_exit_s = 30;
  s = RenderSbatchScript(o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(absl::StrContains(*s, "IDLE_EXIT=30\n"));
  EXPECT_TRUE(absl::StrContains(*s, "--exit-when-idle \"$IDLE_EXIT\""));
  // A worker step that fails makes the array task fail.
  EXPECT_TRUE(absl::StrContains(*s, "exit \"$WORKERS_RC\""));
  EXPECT_FALSE(absl::StrContains(*s, " status "));
  EXPECT_TRUE(BashParses(*s));
}

TEST(SbatchScriptTest, RefusesWhatCannotGoIntoAScript) {
  SbatchOptions o = Full();
  o.extra_lines = {"--exclusive\necho pwned"};
  EXPECT_EQ(RenderSbatchScript(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = Full();
  o.partition = "gpu --wrap=evil";
  EXPECT_EQ(RenderSbatchScript(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = Full();
  o.devices_per_lane = 4;  // more than --gpus-per-node
  EXPECT_EQ(RenderSbatchScript(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = Full();
  o.array = 4;  // arrays are for workers only
  EXPECT_EQ(RenderSbatchScript(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  SbatchOptions w;
  w.reelfarm = "/bin/reelfarm";
  w.workers_only = true;
  w.coordinator = "login1:7400";  // no token file
  EXPECT_EQ(RenderSbatchScript(w).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reelfarm::cli
