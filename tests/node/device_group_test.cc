// DeviceGroup on CPU devices, which use the in-process communicator: the
// ranks run at once and talk, and a failing rank cannot hang the others.

#include "node/renderers/device_group.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>

namespace reelfarm {
namespace {

std::vector<v1::Device> CpuDevices(int n) {
  std::vector<v1::Device> devices(n);
  for (v1::Device& d : devices) d.set_name("cpu");
  return devices;
}

TEST(DeviceGroupTest, RanksRunTogetherAndReduce) {
  DeviceGroup group(CpuDevices(3));
  std::vector<double> sums(3);
  ASSERT_TRUE(group
                  .Run(3,
                       [&](int rank, pipeline::comm::Communicator* comm) {
                         EXPECT_EQ(comm->rank(), rank);
                         EXPECT_EQ(comm->size(), 3);
                         torch::Tensor t = torch::full({4}, rank + 1.0);
                         absl::Status st = comm->AllReduceSum(t);
                         sums[rank] = t[3].item<double>();
                         return st;
                       })
                  .ok());
  EXPECT_EQ(sums, (std::vector<double>{6, 6, 6}));
}

TEST(DeviceGroupTest, FewerRanksThanDevices) {
  DeviceGroup group(CpuDevices(3));
  std::atomic<int> calls{0};
  ASSERT_TRUE(group
                  .Run(2,
                       [&](int, pipeline::comm::Communicator* comm) {
                         ++calls;
                         EXPECT_EQ(comm->size(), 2);
                         return comm->Barrier();
                       })
                  .ok());
  EXPECT_EQ(calls.load(), 2);
  // One rank needs nobody to talk to.
  ASSERT_TRUE(group
                  .Run(1,
                       [&](int rank, pipeline::comm::Communicator* comm) {
                         EXPECT_EQ(rank, 0);
                         EXPECT_EQ(comm, nullptr);
                         return absl::OkStatus();
                       })
                  .ok());
  EXPECT_EQ(group
                .Run(4,
                     [](int, pipeline::comm::Communicator*) {
                       return absl::OkStatus();
                     })
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DeviceGroupTest, AFailingRankReleasesTheOthersAndItsErrorWins) {
  DeviceGroup group(CpuDevices(3));
  const absl::Status st =
      group.Run(3, [&](int rank, pipeline::comm::Communicator* comm) {
        if (rank == 1) return absl::ResourceExhaustedError("out of memory");
        // Ranks 0 and 2 wait for rank 1, which never comes.
        torch::Tensor t = torch::ones({2});
        return comm->AllReduceSum(t);
      });
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  // The next job gets a fresh group.
  EXPECT_TRUE(group
                  .Run(3,
                       [](int, pipeline::comm::Communicator* comm) {
                         return comm->Barrier();
                       })
                  .ok());
}

TEST(DeviceGroupTest, RanksForIsWhatTheJobAsksCappedByTheLane) {
  v1::RenderParams p;
  EXPECT_EQ(RanksFor(p, 4), 1);
  p.set_devices_per_video(2);
  EXPECT_EQ(RanksFor(p, 4), 2);
  EXPECT_EQ(RanksFor(p, 1), 1);
  p.set_devices_per_video(8);
  EXPECT_EQ(RanksFor(p, 3), 3);
}

}  // namespace
}  // namespace reelfarm
