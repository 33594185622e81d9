#include "node/devices.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace reelfarm {
namespace {

TEST(DevicesTest, ParsesFlag) {
  auto cpu = ParseDeviceList("cpu");
  ASSERT_TRUE(cpu.ok());
  ASSERT_EQ(cpu->size(), 1u);
  EXPECT_EQ((*cpu)[0].name(), "cpu");
  auto gpus = ParseDeviceList("0, cuda:3");
  ASSERT_TRUE(gpus.ok());
  ASSERT_EQ(gpus->size(), 2u);
  EXPECT_EQ((*gpus)[1].name(), "cuda:3");
  EXPECT_EQ(ParseDeviceList("gpu0").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDeviceList(",").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DevicesTest, CudaVisibleDevicesIsRenumbered) {
  ::setenv("CUDA_VISIBLE_DEVICES", "4,6,7", 1);
  auto found = DiscoverDevices("auto");
  ::unsetenv("CUDA_VISIBLE_DEVICES");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 3u);
  EXPECT_EQ((*found)[0].name(), "cuda:0");
  EXPECT_EQ((*found)[2].name(), "cuda:2");
}

TEST(DevicesTest, FlagWinsOverEnvironment) {
  ::setenv("CUDA_VISIBLE_DEVICES", "0,1", 1);
  auto found = DiscoverDevices("cpu");
  ::unsetenv("CUDA_VISIBLE_DEVICES");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ((*found)[0].name(), "cpu");
}

}  // namespace
}  // namespace reelfarm
