#ifndef REELFARM_NODE_DEVICES_H_
#define REELFARM_NODE_DEVICES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm {

// The devices a node renders on, from (first that applies):
//   `flag`: "cpu", or CUDA ordinals "0,1" / "cuda:0,cuda:1";
//   CUDA_VISIBLE_DEVICES (SLURM sets it for allocated GPUs), whose entries
//   are renumbered from 0 as CUDA does;
//   the CUDA devices libtorch sees;
//   the CPU.
absl::StatusOr<std::vector<v1::Device>> DiscoverDevices(
    const std::string& flag);

// Parses a device list such as "cpu" or "0,1"; exposed for tests.
absl::StatusOr<std::vector<v1::Device>> ParseDeviceList(
    const std::string& list);

}  // namespace reelfarm

#endif  // REELFARM_NODE_DEVICES_H_
