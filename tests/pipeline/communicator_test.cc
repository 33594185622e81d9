#include <gtest/gtest.h>
#include <torch/torch.h>

#include <thread>

#include "node/pipeline/comm/in_process_communicator.h"

namespace reelfarm::pipeline::comm {
namespace {

// Runs fn(rank communicator) on one thread per rank and joins them.
void RunGroup(int size, const std::function<void(Communicator&)>& fn) {
  std::vector<std::unique_ptr<Communicator>> group = MakeInProcessGroup(size);
  std::vector<std::thread> threads;
  for (auto& c : group) threads.emplace_back([&fn, &c] { fn(*c); });
  for (std::thread& t : threads) t.join();
}

TEST(InProcessCommunicatorTest, AllReduceSumsOnEveryRank) {
  for (int size : {1, 2, 3, 4}) {
    std::vector<torch::Tensor> results(size);
    RunGroup(size, [&](Communicator& c) {
      torch::Tensor t = torch::full({3, 2}, float(c.rank() + 1));
      // Many rounds: the barrier must be reusable without mixing rounds.
      for (int round = 0; round < 20; ++round) {
        torch::Tensor x = t * (round + 1);
        ASSERT_TRUE(c.AllReduceSum(x).ok());
        EXPECT_FLOAT_EQ(x[0][0].item<float>(),
                        (round + 1) * size * (size + 1) / 2.0f);
      }
      results[c.rank()] = t;
    });
    for (int r = 0; r < size; ++r) {
      EXPECT_FLOAT_EQ(results[r][1][1].item<float>(), r + 1);  // input kept
    }
  }
}

TEST(InProcessCommunicatorTest, AllGatherBroadcastBarrier) {
  std::vector<torch::Tensor> gathered(3), broadcast(3);
  RunGroup(3, [&](Communicator& c) {
    EXPECT_EQ(c.size(), 3);
    torch::Tensor in = torch::full({2}, float(c.rank() * 10));
    torch::Tensor out = torch::empty({6});
    ASSERT_TRUE(c.AllGather(in, out).ok());
    gathered[c.rank()] = out;
    torch::Tensor b = torch::full({2}, float(c.rank()));
    ASSERT_TRUE(c.Broadcast(b, 2).ok());
    broadcast[c.rank()] = b;
    EXPECT_TRUE(c.Barrier().ok());
    torch::Tensor small = torch::empty({5});
    EXPECT_FALSE(c.AllGather(in, small).ok());
  });
  for (int r = 0; r < 3; ++r) {
    EXPECT_TRUE(torch::equal(
        gathered[r], torch::tensor({0.f, 0.f, 10.f, 10.f, 20.f, 20.f})));
    EXPECT_TRUE(torch::equal(broadcast[r], torch::full({2}, 2.f)));
  }
}

TEST(InProcessCommunicatorTest, AbortReleasesWaitingRanks) {
  auto group = std::make_shared<ThreadGroup>(2);
  InProcessCommunicator rank0(group, 0);
  absl::Status waited;
  std::thread waiter([&] { waited = rank0.Barrier(); });
  // Rank 1 failed before its collective: it aborts instead of arriving.
  group->Abort();
  waiter.join();
  EXPECT_EQ(waited.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(rank0.Barrier().code(), absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace reelfarm::pipeline::comm
