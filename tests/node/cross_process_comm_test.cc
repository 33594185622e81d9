// Ranks of one device group as separate processes: a real coordinator with
// a token on 127.0.0.1, and comm_probe children that meet through its
// Rendezvous RPC and run collectives over SocketCommunicator. Their results
// must be the bytes InProcessCommunicator gives in this process.

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "coordinator/coordinator_server.h"
#include "node/pipeline/comm/in_process_communicator.h"
#include "tests/node/comm_probe_lib.h"

extern char** environ;

namespace reelfarm {
namespace {

namespace fs = std::filesystem;

constexpr char kToken[] = "rendezvous-test-token";

// A child process with stdout and stderr on one pipe.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(),
                      environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0) Wait();
    if (out_ >= 0) ::close(out_);
  }

  bool started() const { return pid_ > 0; }

  // Everything it prints, until it closes its output.
  std::string ReadAll() {
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(out_, buf, sizeof(buf))) != 0;) {
      if (n > 0) {
        text.append(buf, static_cast<size_t>(n));
      } else if (errno != EINTR) {
        break;
      }
    }
    return text;
  }

  // The exit code, or 128 + the signal that ended it.
  int Wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

// The "result ..." lines of a probe's output.
std::vector<std::string> ResultLines(const std::string& output) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (absl::StartsWith(line, "result ")) lines.emplace_back(line);
  }
  return lines;
}

class CrossProcessCommTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / "cross_process_comm_test";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    token_file_ = (dir_ / "token").string();
    std::ofstream(token_file_) << kToken << "\n";
    CoordinatorOptions options;
    options.listen_address = "127.0.0.1:0";
    options.security.token = kToken;
    absl::StatusOr<std::unique_ptr<CoordinatorServer>> server =
        CoordinatorServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    fs::remove_all(dir_);
  }

  std::vector<std::string> ProbeArgs(const std::string& group, int rank,
                                     int size, int timeout_ms = 60000) {
    return {COMM_PROBE_BINARY,
            "--coordinator",
            server_->address(),
            "--token-file",
            token_file_,
            "--group",
            group,
            "--rank",
            absl::StrCat(rank),
            "--size",
            absl::StrCat(size),
            "--timeout-ms",
            absl::StrCat(timeout_ms)};
  }

  fs::path dir_;
  std::string token_file_;
  std::unique_ptr<CoordinatorServer> server_;
};

TEST_F(CrossProcessCommTest, ProcessesAgreeWithTheInProcessBackend) {
  constexpr int kSize = 3;
  // What the ranks must print: the same run over threads, here.
  std::vector<std::vector<torch::Tensor>> inputs;
  for (int r = 0; r < kSize; ++r) inputs.push_back(comm_probe::Inputs(r));
  std::vector<std::vector<std::string>> expected(kSize);
  {
    std::vector<std::unique_ptr<pipeline::comm::Communicator>> group =
        pipeline::comm::MakeInProcessGroup(kSize);
    std::vector<std::thread> threads;
    for (int r = 0; r < kSize; ++r) {
      threads.emplace_back([&, r] {
        absl::StatusOr<std::vector<std::string>> lines =
            comm_probe::Run(*group[r], inputs[r]);
        ASSERT_TRUE(lines.ok()) << lines.status();
        expected[r] = *lines;
      });
    }
    for (std::thread& t : threads) t.join();
  }
  ASSERT_FALSE(expected[0].empty());

  // Rank 0 last, so the others really wait for it.
  std::vector<std::unique_ptr<Child>> children(kSize);
  for (int r = kSize - 1; r >= 0; --r) {
    children[r] =
        std::make_unique<Child>(ProbeArgs("video-7/group-0", r, kSize));
    ASSERT_TRUE(children[r]->started());
  }
  for (int r = 0; r < kSize; ++r) {
    const std::string output = children[r]->ReadAll();
    EXPECT_EQ(children[r]->Wait(), 0) << "rank " << r << ":\n" << output;
    EXPECT_EQ(ResultLines(output), expected[r]) << "rank " << r;
    // Every rank ends with the same bytes.
    EXPECT_EQ(expected[r], expected[0]);
  }
}

TEST_F(CrossProcessCommTest, AWrongTokenIsRefused) {
  std::ofstream(token_file_) << "not-the-token\n";
  Child child(ProbeArgs("g", 1, 2));
  ASSERT_TRUE(child.started());
  const std::string output = child.ReadAll();
  EXPECT_EQ(child.Wait(), 1) << output;
  EXPECT_NE(output.find("wrong token"), std::string::npos) << output;
}

TEST_F(CrossProcessCommTest, ARankWithoutRankZeroGivesUpAtItsTimeout) {
  const absl::Time started = absl::Now();
  Child child(ProbeArgs("lonely", 1, 2, /*timeout_ms=*/1000));
  ASSERT_TRUE(child.started());
  const std::string output = child.ReadAll();
  EXPECT_EQ(child.Wait(), 1) << output;
  EXPECT_NE(output.find("DEADLINE_EXCEEDED"), std::string::npos) << output;
  EXPECT_NE(output.find("rendezvous group lonely"), std::string::npos)
      << output;
  EXPECT_LT(absl::Now() - started, absl::Seconds(30));
}

}  // namespace
}  // namespace reelfarm
