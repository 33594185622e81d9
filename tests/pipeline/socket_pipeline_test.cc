// The multi-device render over SocketCommunicator (ranks as threads meeting
// over loopback TCP) gives the very bytes of the same render over
// InProcessCommunicator: the TCP backend changes where the additions
// happen, not their order.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "node/pipeline/animatediff/animatediff_pipeline.h"
#include "node/pipeline/comm/in_process_communicator.h"
#include "node/pipeline/comm/rendezvous.h"
#include "node/pipeline/comm/socket_communicator.h"
#include "tests/pipeline/fixtures.h"

namespace reelfarm::pipeline {
namespace {

using testing::LoadFixtureModels;

using Group = std::vector<std::unique_ptr<comm::Communicator>>;

VideoRequest Request(bool split_frames) {
  VideoRequest r;
  r.prompt = "a corgi running on the beach";
  r.negative_prompt = "blurry";
  r.seed = 1234;
  r.width = 64;
  r.height = 64;
  r.frames = 24;
  r.steps = 3;
  r.guidance_scale = 7.5;
  r.context.length = 16;
  r.context.stride = 4;
  r.split_frames = split_frames;
  return r;
}

Group SocketGroup(int size) {
  comm::InProcessRendezvous rendezvous;
  std::vector<absl::StatusOr<std::unique_ptr<comm::SocketCommunicator>>> made;
  for (int r = 0; r < size; ++r) made.emplace_back(absl::UnknownError(""));
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r) {
    threads.emplace_back([&, r] {
      made[r] = comm::SocketCommunicator::Create(r, size, rendezvous);
    });
  }
  for (std::thread& t : threads) t.join();
  Group group;
  for (auto& m : made) {
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok()) return {};
    group.push_back(*std::move(m));
  }
  return group;
}

// Every rank's video, rendered with one thread per rank of `group`.
std::vector<torch::Tensor> Render(
    const std::vector<std::unique_ptr<ModelBundle>>& models,
    const VideoRequest& request, Group& group) {
  std::vector<absl::StatusOr<torch::Tensor>> out(group.size());
  std::vector<std::thread> threads;
  for (size_t r = 0; r < group.size(); ++r) {
    threads.emplace_back([&, r] {
      out[r] =
          RenderVideo(*models[r], request, PipelineHooks(), group[r].get());
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<torch::Tensor> videos;
  for (auto& o : out) {
    EXPECT_TRUE(o.ok()) << o.status();
    videos.push_back(o.ok() ? *o : torch::Tensor());
  }
  return videos;
}

TEST(SocketPipelineTest, TwoRanksOverTcpEqualTheInProcessRenderBitwise) {
  constexpr int kRanks = 2;
  std::vector<std::unique_ptr<ModelBundle>> models(kRanks);
  for (auto& m : models) {
    m = LoadFixtureModels();
    ASSERT_NE(m, nullptr);
  }
  // Windows spread over the ranks, then each window's frames split.
  for (bool split_frames : {false, true}) {
    const VideoRequest request = Request(split_frames);
    Group in_process = comm::MakeInProcessGroup(kRanks);
    const std::vector<torch::Tensor> expected =
        Render(models, request, in_process);
    Group sockets = SocketGroup(kRanks);
    ASSERT_EQ(sockets.size(), static_cast<size_t>(kRanks));
    const std::vector<torch::Tensor> actual = Render(models, request, sockets);
    for (int r = 0; r < kRanks; ++r) {
      ASSERT_TRUE(expected[r].defined() && actual[r].defined());
      EXPECT_EQ(actual[r].sizes(), (torch::IntArrayRef{24, 3, 64, 64}));
      EXPECT_TRUE(testing::BitwiseEqual(actual[r], expected[r]))
          << "rank " << r << (split_frames ? ", frames split" : "");
      EXPECT_TRUE(testing::BitwiseEqual(actual[r], actual[0])) << "rank " << r;
    }
  }
}

}  // namespace
}  // namespace reelfarm::pipeline
