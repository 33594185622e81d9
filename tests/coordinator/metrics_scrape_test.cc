// A real coordinator serving metrics on an OS-chosen port, a node agent
// rendering a test-pattern sweep through it, and scrapes over real TCP:
// the numbers match the work done, slow and garbage clients do not hold up
// a scrape, and promtool accepts the text.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "coordinator/coordinator_server.h"
#include "node/node_agent.h"
#include "tests/coordinator/test_specs.h"
#include "tests/tools/required_tool.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;

// A connected socket to 127.0.0.1:port, or -1.
int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  // A server that never answers fails the test instead of hanging it.
  timeval timeout{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

// Sends `request` and returns everything the server sends until it closes.
std::string Exchange(int port, const std::string& request) {
  const int fd = Connect(port);
  if (fd < 0) return "";
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;) {
    response.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return response;
}

std::string Body(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// The value of the sample written exactly as `series` (name and labels).
std::optional<double> Value(const std::string& text,
                            const std::string& series) {
  const std::string prefix = "\n" + series + " ";
  const size_t at = ("\n" + text).find(prefix);
  if (at == std::string::npos) return std::nullopt;
  const size_t start = at + prefix.size() - 1;  // "\n" + text shifted by one
  const size_t end = text.find('\n', start);
  double v = 0;
  if (!absl::SimpleAtod(text.substr(start, end - start), &v)) {
    return std::nullopt;
  }
  return v;
}

TEST(MetricsScrapeTest, ScrapedNumbersMatchTheWorkAndPassPromtool) {
  // Without promtool the test fails, unless told to skip that check; the
  // rest runs either way.
  const absl::StatusOr<std::string> promtool =
      testing_tools::FindTool("promtool", "REELFARM_SKIP_PROMTOOL");
  if (!promtool.ok() &&
      !testing_tools::SkipRequested("REELFARM_SKIP_PROMTOOL")) {
    FAIL() << promtool.status().message();
  }
  const fs::path dir = fs::path(::testing::TempDir()) / "metrics_scrape_test";
  fs::remove_all(dir);
  fs::create_directories(dir / "out");

  CoordinatorOptions options;
  options.listen_address = "127.0.0.1:0";
  options.metrics_listen = "127.0.0.1:0";
  options.security.insecure = true;
  absl::StatusOr<std::unique_ptr<CoordinatorServer>> server =
      CoordinatorServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = std::stoi((*server)->metrics_address().substr(
      (*server)->metrics_address().rfind(':') + 1));
  ASSERT_GT(port, 0);
  EXPECT_EQ((*server)->metrics_address(), absl::StrCat("127.0.0.1:", port));

  // Before any work: every family is there, at zero.
  std::string text = Body(Exchange(port, "GET /metrics HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(Value(text, "reelfarm_leases_granted_total"), 0) << text;
  EXPECT_EQ(Value(text, "reelfarm_sweeps{state=\"running\"}"), 0) << text;

  constexpr int kJobs = 12;
  absl::StatusOr<SubmitResult> submitted = (*server)->lease_queue()->Submit(
      testing_specs::GridSpec(3, 4, (dir / "out").string()));
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  ASSERT_EQ(submitted->jobs, kJobs);

  NodeOptions node_options;
  node_options.coordinator = (*server)->address();
  node_options.node_id = "node \"a\"";  // quotes must come out escaped
  node_options.devices.emplace_back().set_name("cpu");
  node_options.lanes = 2;
  NodeAgent node(node_options);
  ASSERT_TRUE(node.Start().ok());

  v1::SweepStatus sweep;
  uint64_t cursor = 0;
  const absl::Time give_up = absl::Now() + absl::Minutes(2);
  do {
    absl::StatusOr<SweepChanges> changes =
        (*server)->lease_queue()->WaitForChanges(submitted->sweep_id, cursor,
                                                 absl::Seconds(5));
    ASSERT_TRUE(changes.ok()) << changes.status();
    cursor = changes->cursor;
    sweep = changes->sweep;
  } while (sweep.state() == v1::SWEEP_STATE_RUNNING && absl::Now() < give_up);
  ASSERT_EQ(sweep.state(), v1::SWEEP_STATE_DONE);
  node.Stop();

  // A client that sent half a request and waits, and one that sent
  // garbage: neither holds up the scrape.
  const int slow = Connect(port);
  ASSERT_GE(slow, 0);
  send(slow, "GET /metr", 9, MSG_NOSIGNAL);
  const std::string garbage = Exchange(port, "\x16\x03\x01\x02\r\n\r\n");
  EXPECT_EQ(garbage.rfind("HTTP/1.1 400 ", 0), 0u) << garbage;
  EXPECT_EQ(Exchange(port, "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0),
            0u);

  const std::string response =
      Exchange(port, "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n");
  close(slow);
  ASSERT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find(
                "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  text = Body(response);
  const std::string sweep_label =
      absl::StrCat("sweep=\"", submitted->sweep_id, "\"");
  EXPECT_EQ(Value(text, absl::StrCat("reelfarm_jobs{", sweep_label,
                                     ",state=\"done\"}")),
            kJobs)
      << text;
  EXPECT_EQ(Value(text, absl::StrCat("reelfarm_jobs{", sweep_label,
                                     ",state=\"pending\"}")),
            0);
  EXPECT_EQ(Value(text, "reelfarm_sweeps{state=\"done\"}"), 1);
  EXPECT_EQ(Value(text, "reelfarm_sweeps{state=\"running\"}"), 0);
  EXPECT_EQ(Value(text, "reelfarm_nodes_known"), 1);
  EXPECT_EQ(Value(text, "reelfarm_nodes_quarantined"), 0);
  EXPECT_EQ(Value(text,
                  "reelfarm_node_jobs_completed_total{node=\"node "
                  "\\\"a\\\"\"}"),
            kJobs)
      << text;
  EXPECT_EQ(Value(text, "reelfarm_render_seconds_count"), kJobs);
  // One job per shard, and no lease expired: a grant per job.
  EXPECT_EQ(Value(text, "reelfarm_leases_granted_total"), kJobs);
  EXPECT_EQ(Value(text, "reelfarm_lease_grant_seconds_count"), kJobs);
  EXPECT_EQ(Value(text, "reelfarm_lease_grant_seconds_bucket{le=\"+Inf\"}"),
            kJobs);
  EXPECT_EQ(Value(text, "reelfarm_leases_expired_total"), 0);

  (*server)->Shutdown();
  if (!promtool.ok()) GTEST_SKIP() << promtool.status().message();
  const std::string scraped = (dir / "scraped.txt").string();
  std::ofstream(scraped) << text;
  absl::StatusOr<std::string> check = testing_tools::RunTool(
      {"/bin/sh", "-c",
       absl::StrCat("'", *promtool, "' check metrics < '", scraped, "' 2>&1")});
  EXPECT_TRUE(check.ok()) << check.status() << "\n" << text;
}

TEST(MetricsScrapeTest, AnAddressInUseFailsStart) {
  CoordinatorOptions options;
  options.listen_address = "127.0.0.1:0";
  options.metrics_listen = "127.0.0.1:0";
  options.security.insecure = true;
  absl::StatusOr<std::unique_ptr<CoordinatorServer>> first =
      CoordinatorServer::Start(options);
  ASSERT_TRUE(first.ok()) << first.status();
  options.metrics_listen = (*first)->metrics_address();
  absl::StatusOr<std::unique_ptr<CoordinatorServer>> second =
      CoordinatorServer::Start(options);
  EXPECT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("cannot listen"), std::string::npos)
      << second.status();
  options.metrics_listen = "no-port";
  EXPECT_EQ(CoordinatorServer::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MetricsScrapeTest, OffByDefault) {
  CoordinatorOptions options;
  options.listen_address = "127.0.0.1:0";
  options.security.insecure = true;
  absl::StatusOr<std::unique_ptr<CoordinatorServer>> server =
      CoordinatorServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->metrics_address(), "");
}

}  // namespace
}  // namespace reelfarm
