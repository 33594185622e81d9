// Job grants per second: a coordinator on loopback and N simulated nodes,
// each on its own connection, looping AcquireLease + CompleteJob. The same
// loop against the LeaseQueue with no RPC runs first, as the baseline; then
// the coordinator runs again with its durable SQLite state (what
// `reelfarm coordinator` does by default), every result fsynced before it is
// acknowledged.
//
//   build/bench/grant_bench [--nodes 32] [--seconds 5] [--jobs 400000]
//                           [--state-dir DIR]  (default: a folder in /tmp)

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "coordinator/coordinator_server.h"
#include "coordinator/state/sqlite_state_store.h"
#include "reelfarm/v1/coordinator.grpc.pb.h"

namespace reelfarm {
namespace {

v1::SweepSpec BenchSpec(uint64_t jobs) {
  v1::SweepSpec spec;
  spec.set_name("grant-bench");
  spec.set_output_dir("/tmp/reelfarm-grant-bench");
  spec.mutable_renderer()->set_name("test-pattern");
  v1::SweepBlock* block = spec.add_blocks();
  block->mutable_base()->set_prompt("bench");
  v1::Axis* seed = block->add_groups()->add_axes();
  seed->set_field("seed");
  for (uint64_t i = 0; i < jobs; ++i)
    seed->add_values()->set_unsigned_integer(i);
  return spec;
}

double LeaseQueueOnly(uint64_t jobs, int threads, absl::Duration length) {
  NullStateStore store;  // as the coordinator's in-memory mode
  LeaseQueue queue(&store, Clock::Real());
  if (!queue.Submit(BenchSpec(jobs)).ok()) return 0;
  std::atomic<uint64_t> grants{0};
  std::atomic<int> finished{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const std::string node = "n" + std::to_string(t);
      while (!stop.load()) {
        auto lease = queue.Acquire(node, 0);
        if (!lease.ok() || !lease->has_value()) break;
        v1::JobResult r;
        r.set_job_id((*lease)->shard().jobs(0).id());
        queue.Complete((*lease)->id(), (*lease)->epoch(), r).IgnoreError();
        ++grants;
      }
      ++finished;
    });
  }
  // Runs until the jobs run out or time is up, whichever is first.
  const absl::Time start = absl::Now();
  while (absl::Now() - start < length && finished.load() < threads) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop.store(true);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (auto& t : pool) t.join();
  return grants.load() / seconds;
}

double OverGrpc(uint64_t jobs, int nodes, absl::Duration length,
                std::unique_ptr<StateStore> store) {
  CoordinatorOptions options;
  options.manifest_interval = absl::Hours(1);  // measure grants, not JSON
  options.security.insecure = true;            // loopback, this process only
  auto server = CoordinatorServer::Start(options, std::move(store));
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 0;
  }
  if (!(*server)->lease_queue()->Submit(BenchSpec(jobs)).ok()) return 0;
  std::atomic<uint64_t> grants{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  for (int n = 0; n < nodes; ++n) {
    pool.emplace_back([&, n] {
      // A channel argument unique to the node gives it its own connection.
      grpc::ChannelArguments args;
      args.SetInt("reelfarm.bench.node", n);
      auto stub = v1::Coordinator::NewStub(grpc::CreateCustomChannel(
          (*server)->address(), grpc::InsecureChannelCredentials(), args));
      const std::string node = "node-" + std::to_string(n);
      // As a node lane does: each result rides on the next lease request.
      v1::AcquireLeaseRequest req;
      req.set_node_id(node);
      while (!stop.load()) {
        v1::AcquireLeaseResponse resp;
        grpc::ClientContext ctx;
        if (!stub->AcquireLease(&ctx, req, &resp).ok() || !resp.has_lease()) {
          return;
        }
        ++grants;
        req.clear_completed();
        v1::CompleteJobRequest* done = req.add_completed();
        done->set_lease_id(resp.lease().id());
        done->set_epoch(resp.lease().epoch());
        done->mutable_result()->set_job_id(resp.lease().shard().jobs(0).id());
      }
    });
  }
  const absl::Time start = absl::Now();
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(length));
  stop.store(true);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (auto& t : pool) t.join();
  (*server)->Shutdown();
  return grants.load() / seconds;
}

}  // namespace
}  // namespace reelfarm

int main(int argc, char** argv) {
  int nodes = 32;
  double seconds = 5;
  uint64_t jobs = 400000;
  std::string state_dir = "/tmp/reelfarm-grant-bench-state";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--nodes")) nodes = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--jobs"))
      jobs = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--state-dir")) state_dir = argv[i + 1];
  }
  const absl::Duration length = absl::Seconds(seconds);
  const double local = reelfarm::LeaseQueueOnly(jobs, nodes, length);
  const double grpc = reelfarm::OverGrpc(jobs, nodes, length, nullptr);
  std::filesystem::remove_all(state_dir);
  auto store = reelfarm::SqliteStateStore::Open(state_dir);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  const double durable =
      reelfarm::OverGrpc(jobs, nodes, length, *std::move(store));
  std::filesystem::remove_all(state_dir);
  std::printf("queue only (%d threads): %10.0f grants/s\n", nodes, local);
  std::printf("gRPC, %d nodes on loopback:  %10.0f grants/s (%.3f of queue)\n",
              nodes, grpc, local > 0 ? grpc / local : 0);
  std::printf(
      "gRPC + durable SQLite state: %10.0f grants/s (%.3f of in-memory)\n",
      durable, grpc > 0 ? durable / grpc : 0);
  return 0;
}
