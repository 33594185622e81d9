#ifndef REELFARM_NODE_DEVICES_H_
#define REELFARM_NODE_DEVICES_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm {

// Reads an environment variable; null when unset.
using GetEnvFn = std::function<const char*(const char*)>;

// The devices a node renders on, from (first that applies):
//   `flag`: "cpu", or CUDA ordinals "0,1" / "cuda:0,cuda:1";
//   the environment (DevicesFromEnvironment);
//   the CUDA devices libtorch sees;
//   the CPU.
absl::StatusOr<std::vector<v1::Device>> DiscoverDevices(
    const std::string& flag);

// The GPUs the environment assigns, if it does:
//   CUDA_VISIBLE_DEVICES (SLURM sets it for allocated GPUs), whose entries
//   CUDA renumbers from 0;
//   else SLURM_STEP_GPUS, then SLURM_JOB_GPUS: physical indices, used as
//   ordinals as they are, since nothing hides the other GPUs.
// "NoDevFiles" (SLURM's word for no GPUs allocated) counts as unset.
std::optional<std::vector<v1::Device>> DevicesFromEnvironment(
    const GetEnvFn& getenv);

// Whether `devices_per_lane` (and `lanes`) can split `devices` devices into
// lanes; the error names the flags.
absl::Status CheckLaneLayout(size_t devices, uint32_t lanes,
                             uint32_t devices_per_lane);

// Parses a device list such as "cpu", "0,1" or "cpu,cpu" (CPU ranks that
// stand in for GPUs); exposed for tests.
absl::StatusOr<std::vector<v1::Device>> ParseDeviceList(
    const std::string& list);

}  // namespace reelfarm

#endif  // REELFARM_NODE_DEVICES_H_
