#include "node/renderers/device_group.h"

#include <torch/cuda.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sweep/context_settings.h"
#include "node/pipeline/comm/in_process_communicator.h"
#include "node/pipeline/comm/rendezvous.h"
#ifdef REELFARM_HAVE_NCCL
#include "node/pipeline/comm/nccl_communicator.h"
#endif

namespace reelfarm {
namespace {

using pipeline::comm::Communicator;

// The CUDA ordinal of "cuda:N", or -1.
int CudaOrdinal(const v1::Device& device) {
  int ordinal = -1;
  if (!absl::StartsWith(device.name(), "cuda:") ||
      !absl::SimpleAtoi(device.name().substr(5), &ordinal)) {
    return -1;
  }
  return ordinal;
}

// Runs fn(rank) for every rank at once, rank 0 on this thread.
void OnEveryRank(int ranks, const std::function<void(int)>& fn) {
  std::vector<std::thread> threads;
  for (int r = 1; r < ranks; ++r) threads.emplace_back(fn, r);
  fn(0);
  for (std::thread& t : threads) t.join();
}

}  // namespace

int RanksFor(const v1::RenderParams& params, size_t lane_devices) {
  return static_cast<int>(std::max<size_t>(
      1, std::min<size_t>(DevicesPerVideo(params), lane_devices)));
}

DeviceGroup::DeviceGroup(std::vector<v1::Device> devices)
    : devices_(std::move(devices)) {}

DeviceGroup::~DeviceGroup() = default;

absl::Status DeviceGroup::EnsureComms(int ranks) {
  if (comms_.count(ranks) > 0) return absl::OkStatus();
  bool all_cuda = torch::cuda::is_available();
  for (int r = 0; r < ranks; ++r) all_cuda &= CudaOrdinal(devices_[r]) >= 0;
  Comms comms(ranks);
#ifdef REELFARM_HAVE_NCCL
  if (all_cuda) {
    // ncclCommInitRank returns once every rank has called it.
    pipeline::comm::InProcessRendezvous rendezvous;
    std::vector<absl::Status> made(ranks);
    OnEveryRank(ranks, [&](int r) {
      auto comm = pipeline::comm::NcclCommunicator::Create(
          r, ranks, CudaOrdinal(devices_[r]), rendezvous);
      if (comm.ok()) {
        comms[r] = *std::move(comm);
      } else {
        made[r] = comm.status();
      }
    });
    for (const absl::Status& st : made) {
      if (!st.ok()) return st;
    }
    comms_[ranks] = std::move(comms);
    return absl::OkStatus();
  }
#endif
  (void)all_cuda;
  comms_[ranks] = pipeline::comm::MakeInProcessGroup(ranks);
  return absl::OkStatus();
}

absl::Status DeviceGroup::Run(int ranks, const RankFn& fn) {
  if (ranks < 1 || static_cast<size_t>(ranks) > devices_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "asked for ", ranks, " ranks of a group of ", devices_.size()));
  }
  if (ranks == 1) return fn(0, nullptr);
  if (absl::Status st = EnsureComms(ranks); !st.ok()) return st;
  Comms& comms = comms_.at(ranks);
  std::vector<absl::Status> results(ranks);
  std::atomic<int> first_failed{-1};
  OnEveryRank(ranks, [&](int r) {
    results[r] = fn(r, comms[r].get());
    if (results[r].ok()) return;
    // The first to fail is the cause; the others fail because of the abort
    // (with whatever error their backend gives).
    int none = -1;
    first_failed.compare_exchange_strong(none, r);
    // The others may be waiting for this rank in a collective (an NCCL
    // rank's kernels wait until its own communicator is aborted).
    for (auto& comm : comms) comm->Abort();
  });
  const absl::Status first_error =
      first_failed.load() < 0 ? absl::OkStatus() : results[first_failed.load()];
  // An aborted group cannot be used again: the next job makes a new one.
  if (!first_error.ok()) comms_.erase(ranks);
  return first_error;
}

}  // namespace reelfarm
