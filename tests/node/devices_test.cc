#include "node/devices.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

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

TEST(DevicesTest, CpuListedTwiceIsTwoDevices) {
  auto two = ParseDeviceList("cpu, cpu");
  ASSERT_TRUE(two.ok()) << two.status();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].name(), "cpu");
}

TEST(DevicesTest, LaneLayoutFlagsAreChecked) {
  EXPECT_TRUE(CheckLaneLayout(4, 0, 2).ok());
  EXPECT_TRUE(CheckLaneLayout(3, 0, 2).ok());  // lanes of 2 and 1
  EXPECT_TRUE(CheckLaneLayout(1, 3, 1).ok());  // three lanes share a device
  const absl::Status zero = CheckLaneLayout(2, 0, 0);
  EXPECT_NE(zero.message().find("--devices-per-lane"), std::string::npos);
  const absl::Status too_many = CheckLaneLayout(2, 0, 4);
  EXPECT_NE(too_many.message().find("only 2 device(s)"), std::string::npos)
      << too_many;
  const absl::Status both = CheckLaneLayout(4, 2, 2);
  EXPECT_NE(both.message().find("--lanes"), std::string::npos) << both;
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

GetEnvFn FakeEnv(std::map<std::string, std::string> vars) {
  auto shared =
      std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

std::vector<std::string> Names(const std::vector<v1::Device>& devices) {
  std::vector<std::string> out;
  for (const v1::Device& d : devices) out.push_back(d.name());
  return out;
}

TEST(DevicesTest, EnvironmentWithoutGpusSaysNothing) {
  EXPECT_FALSE(DevicesFromEnvironment(FakeEnv({})).has_value());
  EXPECT_FALSE(
      DevicesFromEnvironment(FakeEnv({{"CUDA_VISIBLE_DEVICES", "NoDevFiles"},
                                      {"SLURM_JOB_GPUS", " "}}))
          .has_value());
}

TEST(DevicesTest, CudaVisibleDevicesWinsOverSlurmIndices) {
  auto found = DevicesFromEnvironment(FakeEnv({{"CUDA_VISIBLE_DEVICES", "2,3"},
                                               {"SLURM_STEP_GPUS", "2,3"},
                                               {"SLURM_JOB_GPUS", "0,1,2,3"}}));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(Names(*found), (std::vector<std::string>{"cuda:0", "cuda:1"}));
}

TEST(DevicesTest, SlurmStepGpusAreOrdinalsWithoutCudaVisibleDevices) {
  auto found = DevicesFromEnvironment(
      FakeEnv({{"SLURM_STEP_GPUS", "1,3"}, {"SLURM_JOB_GPUS", "0,1,2,3"}}));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(Names(*found), (std::vector<std::string>{"cuda:1", "cuda:3"}));
}

TEST(DevicesTest, SlurmJobGpusIsTheLastResort) {
  auto found = DevicesFromEnvironment(
      FakeEnv({{"CUDA_VISIBLE_DEVICES", ""}, {"SLURM_JOB_GPUS", "0"}}));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(Names(*found), (std::vector<std::string>{"cuda:0"}));
  // Not a list of indices: ignored rather than guessed at.
  EXPECT_FALSE(DevicesFromEnvironment(FakeEnv({{"SLURM_JOB_GPUS", "gpu:a"}}))
                   .has_value());
}

}  // namespace
}  // namespace reelfarm
