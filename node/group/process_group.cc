#include "node/group/process_group.h"

#include <torch/cuda.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/hostname.h"
#include "node/group/grpc_rendezvous.h"
#include "node/pipeline/comm/socket_communicator.h"
#ifdef REELFARM_HAVE_NCCL
#include "node/pipeline/comm/nccl_communicator.h"
#endif

namespace reelfarm {
namespace {

using pipeline::comm::Communicator;

// Room for "host/device" per member in the all-gather.
constexpr int64_t kLabelBytes = 128;

#ifdef REELFARM_HAVE_NCCL
// Rank 0's bytes to every rank over a communicator that works already: how
// NCCL's id travels once the TCP group stands.
class BroadcastRendezvous : public pipeline::comm::Rendezvous {
 public:
  explicit BroadcastRendezvous(Communicator& comm) : comm_(comm) {}
  absl::StatusOr<std::string> Share(int rank,
                                    const std::string& bytes) override {
    torch::Tensor size = torch::full(
        {1}, rank == 0 ? static_cast<int64_t>(bytes.size()) : 0, torch::kInt64);
    if (absl::Status st = comm_.Broadcast(size, 0); !st.ok()) return st;
    torch::Tensor data = torch::zeros({size.item<int64_t>()}, torch::kUInt8);
    if (rank == 0) std::memcpy(data.data_ptr(), bytes.data(), bytes.size());
    if (absl::Status st = comm_.Broadcast(data, 0); !st.ok()) return st;
    return std::string(static_cast<const char*>(data.data_ptr()), data.numel());
  }

 private:
  Communicator& comm_;
};
#endif

}  // namespace

absl::Status CheckProcessGroupOptions(const ProcessGroupOptions& options,
                                      size_t devices) {
  if (options.name.empty()) {
    return absl::InvalidArgumentError("--group needs a name");
  }
  if (options.size < 2) {
    return absl::InvalidArgumentError("--group-size must be at least 2");
  }
  if (options.rank < 0 || options.rank >= options.size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--group-rank ", options.rank, " is not in 0..", options.size - 1));
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--group-timeout must be positive");
  }
  if (devices != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a group member drives one device; --devices lists ", devices));
  }
  return absl::OkStatus();
}

ProcessGroup::~ProcessGroup() = default;

ProcessGroup::HangupWatch::HangupWatch(ProcessGroup& group) {
  if (group.data_ == nullptr) return;  // collectives fail on a dead member
  thread_ = std::thread([this, &group] {
    if (group.control_->WaitForHangup(stop_, absl::Milliseconds(200))) {
      group.Abort();
    }
  });
}

ProcessGroup::HangupWatch::~HangupWatch() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ProcessGroup::Abort() {
  control_->Abort();
  if (data_ != nullptr) data_->Abort();
}

absl::StatusOr<std::unique_ptr<ProcessGroup>> ProcessGroup::Form(
    v1::Coordinator::StubInterface* stub, const ProcessGroupOptions& options,
    const v1::Device& device) {
  GrpcRendezvous::Options meet;
  meet.timeout = options.timeout;
  GrpcRendezvous rendezvous(stub, absl::StrCat("group/", options.name),
                            options.size, meet);
  pipeline::comm::SocketCommunicator::Options socket;
  socket.bind_host = options.bind_host;
  socket.timeout = options.timeout;
  auto control = pipeline::comm::SocketCommunicator::Create(
      options.rank, options.size, rendezvous, socket);
  if (!control.ok()) {
    return absl::Status(control.status().code(),
                        absl::StrCat("forming group ", options.name, ": ",
                                     control.status().message()));
  }
  std::unique_ptr<ProcessGroup> group(new ProcessGroup());
  group->control_ = *std::move(control);

  // Every member's "host/device", for the lane the leader registers.
  std::string label = absl::StrCat(LocalHostname(), "/", device.name());
  label.resize(std::min<size_t>(label.size(), kLabelBytes - 1));
  torch::Tensor mine = torch::zeros({kLabelBytes}, torch::kUInt8);
  std::memcpy(mine.data_ptr(), label.data(), label.size());
  torch::Tensor all = torch::zeros({options.size * kLabelBytes}, torch::kUInt8);
  if (absl::Status st = group->control_->AllGather(mine, all); !st.ok()) {
    return st;
  }
  for (int r = 0; r < options.size; ++r) {
    const char* text =
        static_cast<const char*>(all.data_ptr()) + r * kLabelBytes;
    group->members_.emplace_back(text, strnlen(text, kLabelBytes));
  }

#ifdef REELFARM_HAVE_NCCL
  // NCCL only when every member has a GPU its libtorch can use (a CPU
  // libtorch beside GPUs renders on none): the members count the others.
  int ordinal = -1;
  const bool cuda = absl::StartsWith(device.name(), "cuda:") &&
                    absl::SimpleAtoi(device.name().substr(5), &ordinal) &&
                    torch::cuda::is_available();
  torch::Tensor non_gpu = torch::full({1}, cuda ? 0.0f : 1.0f);
  if (absl::Status st = group->control_->AllReduceSum(non_gpu); !st.ok()) {
    return st;
  }
  if (non_gpu.item<float>() == 0) {
    BroadcastRendezvous id(*group->control_);
    auto nccl = pipeline::comm::NcclCommunicator::Create(
        options.rank, options.size, ordinal, id);
    if (!nccl.ok()) return nccl.status();
    group->data_ = *std::move(nccl);
  }
#endif
  return group;
}

}  // namespace reelfarm
