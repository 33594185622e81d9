#include "node/pipeline/comm/nccl_communicator.h"

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <thread>

namespace reelfarm::pipeline::comm {
namespace {

TEST(NcclCommunicatorTest, TypeMapping) {
  EXPECT_EQ(*NcclType(torch::kFloat32), ncclFloat32);
  EXPECT_EQ(*NcclType(torch::kFloat16), ncclFloat16);
  EXPECT_EQ(*NcclType(torch::kBFloat16), ncclBfloat16);
  EXPECT_EQ(*NcclType(torch::kInt64), ncclInt64);
  EXPECT_FALSE(NcclType(torch::kBool).ok());
}

int GpuCount() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
  return torch::cuda::is_available() ? n : 0;
}

// One rank per GPU, a thread each: all-reduce, all-gather, broadcast.
TEST(NcclCommunicatorTest, CollectivesOnEveryGpu) {
  const int gpus = GpuCount();
  if (gpus == 0) GTEST_SKIP() << "no CUDA device (or a CPU-only libtorch)";
  InProcessRendezvous rendezvous;
  std::vector<torch::Tensor> reduced(gpus), gathered(gpus);
  std::vector<std::thread> threads;
  for (int r = 0; r < gpus; ++r) {
    threads.emplace_back([&, r] {
      auto comm = NcclCommunicator::Create(r, gpus, r, rendezvous);
      ASSERT_TRUE(comm.ok()) << comm.status();
      auto on = torch::TensorOptions().device(torch::kCUDA, r);
      torch::Tensor x = torch::full({4}, float(r + 1), on);
      ASSERT_TRUE((*comm)->AllReduceSum(x).ok());
      torch::Tensor out = torch::empty({gpus * 2}, on);
      ASSERT_TRUE((*comm)->AllGather(torch::full({2}, float(r), on), out).ok());
      ASSERT_TRUE((*comm)->Barrier().ok());
      reduced[r] = x.cpu();
      gathered[r] = out.cpu();
    });
  }
  for (std::thread& t : threads) t.join();
  for (int r = 0; r < gpus; ++r) {
    EXPECT_EQ(reduced[r][0].item<float>(), gpus * (gpus + 1) / 2.0f);
    EXPECT_EQ(gathered[r][2 * gpus - 1].item<float>(), gpus - 1);
  }
}

}  // namespace
}  // namespace reelfarm::pipeline::comm
