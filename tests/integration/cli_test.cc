// The reelfarm binary as a user meets it: help, exit codes, and bad input
// reported with file:line before anything renders.

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "tests/integration/subprocess.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;
using testing_process::Subprocess;

struct Outcome {
  int code;
  std::string output;
};

Outcome RunBinary(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {REELFARM_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  Subprocess p(argv, /*merge_stderr=*/true);
  Outcome o;
  o.output = p.ReadAll();
  o.code = p.Wait();
  return o;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / "reelfarm_cli_test";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    unsetenv("REELFARM_TOKEN");  // children inherit the environment
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST_F(CliTest, HelpEverywhere) {
  EXPECT_EQ(RunBinary({"--help"}).code, 0);
  for (const char* cmd :
       {"run", "coordinator", "node", "submit", "status", "watch", "cancel"}) {
    Outcome o = RunBinary({cmd, "--help"});
    EXPECT_EQ(o.code, 0) << cmd;
    EXPECT_NE(o.output.find("usage: reelfarm"), std::string::npos) << cmd;
  }
}

TEST_F(CliTest, UsageMistakesExitTwo) {
  EXPECT_EQ(RunBinary({}).code, 2);
  EXPECT_EQ(RunBinary({"render"}).code, 2);
  EXPECT_EQ(RunBinary({"run", "--no-such-flag"}).code, 2);
  EXPECT_EQ(RunBinary({"run"}).code, 2);
  EXPECT_EQ(RunBinary({"node"}).code, 2);  // --coordinator is required
  EXPECT_EQ(RunBinary({"run", "--W", "wide", "x.yaml"}).code, 2);
}

TEST_F(CliTest, BadConfigsExitTwoWithTheirLocationAndRenderNothing) {
  const std::string out = (dir_ / "out").string();
  struct Case {
    std::string name, yaml, expect;
  };
  const std::vector<Case> cases = {
      {"syntax.yaml", "name: x\ngrid: [unclosed\n", "syntax.yaml:"},
      {"type.yaml",
       "renderer: test-pattern\ndefaults: {prompt: a, steps: many, "
       "guidance_scale: 7}\n",
       "type.yaml:2:"},
      {"unknown.yaml",
       "renderer: test-pattern\ndefaults: {prompt: a, steps: 2, guidance: "
       "7}\n",
       "guidance_scale"},
      {"negative.yaml",
       "renderer: test-pattern\ndefaults: {prompt: a, steps: -3, "
       "guidance_scale: 7}\n",
       "negative.yaml:2:"},
      {"size.yaml",
       "renderer: test-pattern\ndefaults: {prompt: a, steps: 2, "
       "guidance_scale: 7, W: 100}\n",
       "size.yaml:2:"},
      {"model.yaml",
       "- motion_module: /nonexistent/mm.ckpt\n  steps: 2\n  guidance_scale: "
       "7\n  prompt: [a]\n",
       "model.yaml:1:"},
  };
  for (const Case& c : cases) {
    Outcome o = RunBinary({"run", Write(c.name, c.yaml), "--out", out});
    EXPECT_EQ(o.code, 2) << c.name << ": " << o.output;
    EXPECT_NE(o.output.find(c.expect), std::string::npos)
        << c.name << ": " << o.output;
  }
  EXPECT_FALSE(fs::exists(out)) << "nothing renders from a bad config";
}

TEST_F(CliTest, RunRendersASmallSweepAndExitsZero) {
  const std::string sweep = Write("ok.yaml", R"(renderer: test-pattern
defaults: {W: 16, H: 16, L: 2, steps: 1, guidance_scale: 7}
grid:
  prompt: [a, b]
  seed: [1, 2]
)");
  Outcome o = RunBinary({"run", sweep, "--out", (dir_ / "out").string(),
                         "--lanes", "2", "--devices", "cpu"});
  EXPECT_EQ(o.code, 0) << o.output;
  EXPECT_TRUE(fs::exists(dir_ / "out" / "manifest.json"));
  EXPECT_NE(o.output.find("4/4 done"), std::string::npos) << o.output;
  // Not a terminal: plain lines, no redraw.
  EXPECT_EQ(o.output.find_first_of("\r\x1b"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find(" jobs/s"), std::string::npos) << o.output;
}

TEST_F(CliTest, UnreachableCoordinatorIsAFailureNotBadInput) {
  Outcome o = RunBinary({"status", "--coordinator", "127.0.0.1:1"});
  EXPECT_EQ(o.code, 1) << o.output;
}

TEST_F(CliTest, CoordinatorWithoutTokenOrInsecureRefusesToStart) {
  Outcome o = RunBinary({"coordinator", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("refusing to start without authentication"),
            std::string::npos)
      << o.output;
  EXPECT_NE(o.output.find("--insecure"), std::string::npos) << o.output;
  o = RunBinary({"coordinator", "--listen", "127.0.0.1:0", "--insecure",
                 "--token-file", Write("token", "t")});
  EXPECT_EQ(o.code, 2) << o.output;
}

TEST_F(CliTest, ClientsWithoutTheRightTokenFailAndSayWhy) {
  const std::string token = Write("token", "right-token\n");
  const std::string wrong = Write("wrong", "wrong-token\n");
  Subprocess coordinator({REELFARM_BINARY, "coordinator", "--listen",
                          "127.0.0.1:0", "--token-file", token, "--no-state"});
  const std::string line = coordinator.ReadLine();  // "listening on ADDR"
  ASSERT_EQ(line.rfind("listening on ", 0), 0u) << line;
  const std::string address = line.substr(strlen("listening on "));

  Outcome o = RunBinary({"status", "--coordinator", address});
  EXPECT_EQ(o.code, 1) << o.output;
  EXPECT_NE(o.output.find("not authenticated: no token"), std::string::npos)
      << o.output;
  o = RunBinary(
      {"cancel", "sw-x", "--coordinator", address, "--token-file", wrong});
  EXPECT_EQ(o.code, 1) << o.output;
  EXPECT_NE(o.output.find("not authenticated: wrong token"), std::string::npos)
      << o.output;
  // A node does not retry what retrying cannot fix.
  o = RunBinary({"node", "--coordinator", address, "--devices", "cpu",
                 "--token-file", wrong});
  EXPECT_EQ(o.code, 1) << o.output;
  EXPECT_NE(o.output.find("refused this node: wrong token"), std::string::npos)
      << o.output;

  o = RunBinary({"status", "--coordinator", address, "--token-file", token});
  EXPECT_EQ(o.code, 0) << o.output;
  setenv("REELFARM_TOKEN", "right-token", 1);
  o = RunBinary({"status", "--coordinator", address});
  unsetenv("REELFARM_TOKEN");
  EXPECT_EQ(o.code, 0) << o.output;

  coordinator.Signal(SIGTERM);
  EXPECT_EQ(coordinator.Wait(), 0);
}

TEST_F(CliTest, InsecureCoordinatorServesClientsWithoutAToken) {
  Subprocess coordinator({REELFARM_BINARY, "coordinator", "--listen",
                          "127.0.0.1:0", "--insecure", "--no-state"});
  const std::string line = coordinator.ReadLine();
  ASSERT_EQ(line.rfind("listening on ", 0), 0u) << line;
  Outcome o = RunBinary(
      {"status", "--coordinator", line.substr(strlen("listening on "))});
  EXPECT_EQ(o.code, 0) << o.output;
  EXPECT_EQ(o.output.rfind("SWEEP  STATE  TOTAL", 0), 0u) << o.output;
  coordinator.Signal(SIGTERM);
  EXPECT_EQ(coordinator.Wait(), 0);
}

TEST_F(CliTest, CoordinatorPrintsTheMetricsAddressAndStatusListsNodes) {
  Subprocess coordinator({REELFARM_BINARY, "coordinator", "--listen",
                          "127.0.0.1:0", "--insecure", "--no-state",
                          "--metrics-listen", "127.0.0.1:0"});
  const std::string line = coordinator.ReadLine();
  ASSERT_EQ(line.rfind("listening on ", 0), 0u) << line;
  const std::string metrics = coordinator.ReadLine();
  EXPECT_EQ(metrics.rfind("metrics on http://127.0.0.1:", 0), 0u) << metrics;
  EXPECT_EQ(metrics.find(":0/"), std::string::npos) << "the bound port";
  Outcome o = RunBinary({"status", "--nodes", "--coordinator",
                         line.substr(strlen("listening on "))});
  EXPECT_EQ(o.code, 0) << o.output;
  EXPECT_EQ(o.output.rfind("NODE  HOST  LANES  DEVICES", 0), 0u) << o.output;
  o = RunBinary({"status", "sw-x", "--nodes", "--coordinator",
                 line.substr(strlen("listening on "))});
  EXPECT_EQ(o.code, 2) << o.output;
  coordinator.Signal(SIGTERM);
  EXPECT_EQ(coordinator.Wait(), 0);
}

}  // namespace
}  // namespace reelfarm
