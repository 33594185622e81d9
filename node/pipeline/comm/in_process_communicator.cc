#include "node/pipeline/comm/in_process_communicator.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace reelfarm::pipeline::comm {

ThreadGroup::ThreadGroup(int size) : size_(size), posted_(size) {}

absl::Status ThreadGroup::ArriveLocked(std::unique_lock<std::mutex>& lock) {
  if (aborted_) return absl::AbortedError("device group aborted");
  const uint64_t generation = generation_;
  if (++arrived_ == size_) {
    arrived_ = 0;
    ++generation_;
    cv_.notify_all();
    return absl::OkStatus();
  }
  cv_.wait(lock, [&] { return generation_ != generation || aborted_; });
  if (generation_ == generation) {
    return absl::AbortedError("device group aborted");
  }
  return absl::OkStatus();
}

absl::Status ThreadGroup::Arrive() {
  std::unique_lock<std::mutex> lock(mu_);
  return ArriveLocked(lock);
}

absl::Status ThreadGroup::Exchange(int rank, const torch::Tensor& tensor,
                                   std::vector<torch::Tensor>* all) {
  std::unique_lock<std::mutex> lock(mu_);
  posted_[rank] = tensor;
  if (absl::Status st = ArriveLocked(lock); !st.ok()) return st;
  *all = posted_;
  return absl::OkStatus();
}

void ThreadGroup::Abort() {
  std::lock_guard<std::mutex> lock(mu_);
  aborted_ = true;
  cv_.notify_all();
}

InProcessCommunicator::InProcessCommunicator(std::shared_ptr<ThreadGroup> group,
                                             int rank)
    : group_(std::move(group)), rank_(rank) {}

absl::Status InProcessCommunicator::AllReduceSum(torch::Tensor& tensor) {
  std::vector<torch::Tensor> all;
  if (absl::Status st = group_->Exchange(rank_, tensor, &all); !st.ok()) {
    return st;
  }
  // The same additions in the same order on every rank: identical sums.
  torch::Tensor sum = all[0].to(torch::kCPU, /*non_blocking=*/false,
                                /*copy=*/true);
  for (size_t r = 1; r < all.size(); ++r) sum.add_(all[r].to(torch::kCPU));
  // Nobody may overwrite its input while others still read it.
  if (absl::Status st = group_->Arrive(); !st.ok()) return st;
  tensor.copy_(sum);
  return absl::OkStatus();
}

absl::Status InProcessCommunicator::AllGather(const torch::Tensor& input,
                                              torch::Tensor& output) {
  if (output.numel() != input.numel() * size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("all_gather output has ", output.numel(),
                     " elements, want ", input.numel() * size()));
  }
  std::vector<torch::Tensor> all;
  if (absl::Status st = group_->Exchange(rank_, input, &all); !st.ok()) {
    return st;
  }
  torch::Tensor flat = output.view({size(), input.numel()});
  for (int r = 0; r < size(); ++r) flat[r].copy_(all[r].reshape({-1}));
  return group_->Arrive();
}

absl::Status InProcessCommunicator::Broadcast(torch::Tensor& tensor, int root) {
  if (root < 0 || root >= size()) {
    return absl::InvalidArgumentError(absl::StrCat("bad root ", root));
  }
  std::vector<torch::Tensor> all;
  if (absl::Status st = group_->Exchange(rank_, tensor, &all); !st.ok()) {
    return st;
  }
  if (rank_ != root) tensor.copy_(all[root]);
  return group_->Arrive();
}

absl::Status InProcessCommunicator::Barrier() { return group_->Arrive(); }

std::vector<std::unique_ptr<Communicator>> MakeInProcessGroup(int size) {
  auto shared = std::make_shared<ThreadGroup>(size);
  std::vector<std::unique_ptr<Communicator>> group;
  for (int r = 0; r < size; ++r) {
    group.push_back(std::make_unique<InProcessCommunicator>(shared, r));
  }
  return group;
}

}  // namespace reelfarm::pipeline::comm
