// SocketCommunicator with its ranks as threads of this process, talking
// over loopback TCP: results are bitwise those of InProcessCommunicator,
// and a rank that goes away or calls the wrong collective fails the others
// promptly instead of hanging them.

#include "node/pipeline/comm/socket_communicator.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "node/pipeline/comm/in_process_communicator.h"
#include "node/pipeline/comm/rendezvous.h"
#include "tests/pipeline/fixtures.h"

namespace reelfarm::pipeline::comm {
namespace {

using Group = std::vector<std::unique_ptr<Communicator>>;

Group MakeSocketGroup(int size, SocketCommunicator::Options options = {}) {
  InProcessRendezvous rendezvous;
  std::vector<absl::StatusOr<std::unique_ptr<SocketCommunicator>>> made;
  for (int r = 0; r < size; ++r)
    made.emplace_back(absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r) {
    threads.emplace_back([&, r] {
      made[r] = SocketCommunicator::Create(r, size, rendezvous, options);
    });
  }
  for (std::thread& t : threads) t.join();
  Group group;
  for (auto& m : made) {
    EXPECT_TRUE(m.ok()) << m.status();
    group.push_back(m.ok() ? *std::move(m) : nullptr);
  }
  return group;
}

// Runs fn(rank) on one thread per rank and joins them.
void RunRanks(int size, const std::function<void(int)>& fn) {
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r) threads.emplace_back([&fn, r] { fn(r); });
  for (std::thread& t : threads) t.join();
}

// What one rank ends with after a fixed run of collectives.
struct Outcome {
  std::vector<torch::Tensor> tensors;
};

// The same collectives on every rank; inputs differ by rank and mix
// magnitudes, so a sum in another order would differ in its low bits.
void RunCollectives(Communicator& c, const std::vector<torch::Tensor>& inputs,
                    Outcome* out) {
  for (const torch::Tensor& input : inputs) {
    torch::Tensor sum = input.clone();
    ASSERT_TRUE(c.AllReduceSum(sum).ok());
    out->tensors.push_back(sum);
    torch::Tensor gathered =
        torch::empty({c.size() * input.numel()}, input.options());
    ASSERT_TRUE(c.AllGather(input, gathered).ok());
    out->tensors.push_back(gathered);
    for (int root : {0, c.size() - 1}) {
      torch::Tensor b = input.clone();
      ASSERT_TRUE(c.Broadcast(b, root).ok());
      out->tensors.push_back(b);
    }
    ASSERT_TRUE(c.Barrier().ok());
  }
}

std::vector<torch::Tensor> InputsFor(int rank) {
  torch::manual_seed(1234 + rank);
  std::vector<torch::Tensor> inputs;
  for (torch::ScalarType type : {torch::kFloat32, torch::kFloat64}) {
    for (const std::vector<int64_t>& shape : std::vector<std::vector<int64_t>>{
             {}, {0}, {7}, {3, 5}, {2, 0, 3}, {1, 4, 6, 8, 8}}) {
      inputs.push_back(torch::randn(shape, torch::dtype(type)) *
                       std::pow(10.0, 3 * rank));
    }
  }
  return inputs;
}

TEST(SocketCommunicatorTest, MatchesInProcessCommunicatorBitwise) {
  constexpr int kSize = 3;
  std::vector<std::vector<torch::Tensor>> inputs;
  for (int r = 0; r < kSize; ++r) inputs.push_back(InputsFor(r));

  std::vector<Outcome> expected(kSize), actual(kSize);
  Group in_process = MakeInProcessGroup(kSize);
  RunRanks(kSize, [&](int r) {
    RunCollectives(*in_process[r], inputs[r], &expected[r]);
  });
  Group sockets = MakeSocketGroup(kSize);
  ASSERT_NE(sockets.back(), nullptr);
  RunRanks(kSize, [&](int r) {
    EXPECT_EQ(sockets[r]->rank(), r);
    EXPECT_EQ(sockets[r]->size(), kSize);
    RunCollectives(*sockets[r], inputs[r], &actual[r]);
  });

  for (int r = 0; r < kSize; ++r) {
    ASSERT_EQ(actual[r].tensors.size(), expected[r].tensors.size());
    for (size_t i = 0; i < actual[r].tensors.size(); ++i) {
      EXPECT_TRUE(
          testing::BitwiseEqual(actual[r].tensors[i], expected[r].tensors[i]))
          << "rank " << r << ", result " << i;
      // And the same bytes on every rank.
      EXPECT_TRUE(
          testing::BitwiseEqual(actual[r].tensors[i], actual[0].tensors[i]))
          << "rank " << r << ", result " << i;
    }
  }
}

TEST(SocketCommunicatorTest, OneRankNeedsNoPeers) {
  InProcessRendezvous rendezvous;
  auto solo = SocketCommunicator::Create(0, 1, rendezvous);
  ASSERT_TRUE(solo.ok()) << solo.status();
  torch::Tensor t = torch::arange(4, torch::kFloat32);
  ASSERT_TRUE((*solo)->AllReduceSum(t).ok());
  torch::Tensor out = torch::empty({4});
  ASSERT_TRUE((*solo)->AllGather(t, out).ok());
  EXPECT_TRUE(torch::equal(out, torch::arange(4, torch::kFloat32)));
  EXPECT_TRUE((*solo)->Barrier().ok());
}

TEST(SocketCommunicatorTest, RefusesARankOfAnotherSize) {
  InProcessRendezvous rendezvous;
  absl::Status zero, one;
  std::thread t0(
      [&] { zero = SocketCommunicator::Create(0, 2, rendezvous).status(); });
  std::thread t1(
      [&] { one = SocketCommunicator::Create(1, 3, rendezvous).status(); });
  t0.join();
  t1.join();
  EXPECT_EQ(zero.code(), absl::StatusCode::kFailedPrecondition) << zero;
  EXPECT_NE(zero.message().find("group of 3"), std::string::npos) << zero;
  // Rank 1 hears why instead of waiting out its timeout.
  EXPECT_EQ(one.code(), absl::StatusCode::kFailedPrecondition) << one;
}

TEST(SocketCommunicatorTest, APeerThatClosesFailsTheOthersAtOnce) {
  Group group = MakeSocketGroup(3);
  ASSERT_NE(group.back(), nullptr);
  const absl::Time started = absl::Now();
  std::vector<absl::Status> results(3);
  RunRanks(3, [&](int r) {
    ASSERT_TRUE(group[r]->Barrier().ok());
    if (r == 2) {
      group[r].reset();  // gone between collectives
      return;
    }
    torch::Tensor t = torch::ones({16});
    results[r] = group[r]->AllReduceSum(t);
  });
  // Well within the 300 s timeout: the closed socket is seen, not waited on.
  EXPECT_LT(absl::Now() - started, absl::Seconds(60));
  EXPECT_EQ(results[0].code(), absl::StatusCode::kUnavailable) << results[0];
  EXPECT_NE(results[0].message().find("rank 2"), std::string::npos)
      << results[0];
  EXPECT_EQ(results[1].code(), absl::StatusCode::kUnavailable) << results[1];
  EXPECT_NE(results[1].message().find("rank 2"), std::string::npos)
      << results[1];
  // Broken for good.
  EXPECT_FALSE(group[0]->Barrier().ok());
  EXPECT_FALSE(group[1]->Barrier().ok());
}

TEST(SocketCommunicatorTest, RankZeroClosingFailsTheOthers) {
  Group group = MakeSocketGroup(3);
  ASSERT_NE(group.back(), nullptr);
  std::vector<absl::Status> results(3);
  RunRanks(3, [&](int r) {
    if (r == 0) {
      group[0].reset();
      return;
    }
    results[r] = group[r]->Barrier();
  });
  for (int r = 1; r < 3; ++r) {
    EXPECT_EQ(results[r].code(), absl::StatusCode::kUnavailable) << results[r];
    EXPECT_NE(results[r].message().find("rank 0"), std::string::npos)
        << results[r];
  }
}

TEST(SocketCommunicatorTest, ASilentPeerTimesOut) {
  SocketCommunicator::Options options;
  options.timeout = absl::Milliseconds(300);
  Group group = MakeSocketGroup(3, options);
  ASSERT_NE(group.back(), nullptr);
  std::vector<absl::Status> results(3);
  // Rank 2 stays connected but never joins the collective.
  RunRanks(2, [&](int r) {
    torch::Tensor t = torch::ones({4});
    results[r] = group[r]->AllReduceSum(t);
  });
  EXPECT_EQ(results[0].code(), absl::StatusCode::kDeadlineExceeded)
      << results[0];
  EXPECT_NE(results[0].message().find("rank 2"), std::string::npos)
      << results[0];
  EXPECT_EQ(results[1].code(), absl::StatusCode::kDeadlineExceeded)
      << results[1];
}

// What DeviceGroup does when a rank fails: abort every rank's communicator.
// The others return at once, whether they were waiting already or not,
// rather than after the 300 s timeout.
TEST(SocketCommunicatorTest, AbortReleasesRanksWaitingForAFailedOne) {
  Group group = MakeSocketGroup(3);
  ASSERT_NE(group.back(), nullptr);
  std::vector<absl::Status> results(3);
  const absl::Time start = absl::Now();
  RunRanks(3, [&](int r) {
    if (r == 2) {
      for (auto& c : group) c->Abort();
      return;
    }
    torch::Tensor t = torch::ones({4});
    results[r] = group[r]->AllReduceSum(t);
  });
  EXPECT_LT(absl::Now() - start, absl::Seconds(60));
  EXPECT_FALSE(results[0].ok());
  EXPECT_FALSE(results[1].ok());
}

// The watch a process group keeps while NCCL carries a render: it sees a
// member go away without reading anything.
TEST(SocketCommunicatorTest, WaitForHangupSeesAPeerGo) {
  Group group = MakeSocketGroup(3);
  ASSERT_NE(group.back(), nullptr);
  auto* rank0 = static_cast<SocketCommunicator*>(group[0].get());
  std::atomic<bool> stop{false};
  EXPECT_FALSE([&] {
    std::atomic<bool> stopped{true};
    return rank0->WaitForHangup(stopped, absl::Milliseconds(10));
  }());
  bool hung_up = false;
  std::thread watch(
      [&] { hung_up = rank0->WaitForHangup(stop, absl::Milliseconds(10)); });
  group[2].reset();  // rank 2's process dies: its connection closes
  watch.join();
  EXPECT_TRUE(hung_up);
  // And the rank 0 side of an abort tells the followers.
  auto* rank1 = static_cast<SocketCommunicator*>(group[1].get());
  std::thread follower(
      [&] { hung_up = rank1->WaitForHangup(stop, absl::Milliseconds(10)); });
  group[0]->Abort();
  follower.join();
  EXPECT_TRUE(hung_up);
}

TEST(SocketCommunicatorTest, MismatchedCollectivesFailEverywhere) {
  Group group = MakeSocketGroup(3);
  ASSERT_NE(group.back(), nullptr);
  std::vector<absl::Status> results(3);
  RunRanks(3, [&](int r) {
    torch::Tensor t = torch::ones({8});
    results[r] = r == 1 ? group[r]->Broadcast(t, 0) : group[r]->AllReduceSum(t);
  });
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(results[r].code(), absl::StatusCode::kFailedPrecondition)
        << "rank " << r << ": " << results[r];
    EXPECT_NE(results[r].message().find("out of step"), std::string::npos)
        << results[r];
  }
  EXPECT_NE(results[0].message().find(
                "rank 0 called all_reduce_sum #1 (32 bytes of Float), rank 1 "
                "called broadcast #1 (32 bytes of Float, root 0)"),
            std::string::npos)
      << results[0];
}

TEST(SocketCommunicatorTest, MismatchedShapesFailEverywhere) {
  Group group = MakeSocketGroup(2);
  ASSERT_NE(group.back(), nullptr);
  std::vector<absl::Status> results(2);
  RunRanks(2, [&](int r) {
    torch::Tensor t = torch::ones({4 + r});
    results[r] = group[r]->AllReduceSum(t);
  });
  for (const absl::Status& st : results) {
    EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  }
}

}  // namespace
}  // namespace reelfarm::pipeline::comm
