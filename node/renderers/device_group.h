#ifndef REELFARM_NODE_RENDERERS_DEVICE_GROUP_H_
#define REELFARM_NODE_RENDERERS_DEVICE_GROUP_H_

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "node/pipeline/comm/communicator.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm {

// The devices of one lane, rendering one video together: rank r runs on
// devices[r] in a thread of its own, and the ranks talk through a
// Communicator. GPUs use NCCL where the build has it; otherwise (and for
// CPU devices, which stand in for GPUs in tests) the in-process backend.
class DeviceGroup {
 public:
  using RankFn =
      std::function<absl::Status(int rank, pipeline::comm::Communicator*)>;

  explicit DeviceGroup(std::vector<v1::Device> devices);
  ~DeviceGroup();

  const std::vector<v1::Device>& devices() const { return devices_; }

  // Runs `fn` on ranks 0..ranks-1 at once (rank 0 on the calling thread)
  // and waits for all of them; ranks <= devices().size(). One rank gets no
  // communicator. When a rank fails, the group is aborted so the others
  // return instead of waiting for it in a collective; the first failure
  // that is not such an abort is returned.
  absl::Status Run(int ranks, const RankFn& fn);

 private:
  using Comms = std::vector<std::unique_ptr<pipeline::comm::Communicator>>;
  // The communicators of the first `ranks` devices, made on first use and
  // kept (an NCCL communicator takes a while to set up).
  absl::Status EnsureComms(int ranks);

  std::vector<v1::Device> devices_;
  std::map<int, Comms> comms_;  // by rank count
};

// How many of a lane's devices a job uses: what it asks for
// (devices_per_video), at most the lane's.
int RanksFor(const v1::RenderParams& params, size_t lane_devices);

}  // namespace reelfarm

#endif  // REELFARM_NODE_RENDERERS_DEVICE_GROUP_H_
