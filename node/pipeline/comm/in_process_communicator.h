#ifndef REELFARM_NODE_PIPELINE_COMM_IN_PROCESS_COMMUNICATOR_H_
#define REELFARM_NODE_PIPELINE_COMM_IN_PROCESS_COMMUNICATOR_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "node/pipeline/comm/communicator.h"

namespace reelfarm::pipeline::comm {

// The meeting point of N in-process ranks (threads): a reusable barrier
// plus one posted tensor per rank. Abort() releases every waiter with an
// error, so a rank that fails cannot hang the others.
class ThreadGroup {
 public:
  explicit ThreadGroup(int size);

  int size() const { return size_; }

  // Posts `tensor` for `rank`, waits for all ranks, returns them in rank
  // order. The tensors stay valid until the next Arrive().
  absl::Status Exchange(int rank, const torch::Tensor& tensor,
                        std::vector<torch::Tensor>* all);
  absl::Status Arrive();
  void Abort();

 private:
  absl::Status ArriveLocked(std::unique_lock<std::mutex>& lock);

  const int size_;
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
  bool aborted_ = false;
  std::vector<torch::Tensor> posted_;
};

// A Communicator over threads of one process: N threads stand for N
// devices, so the multi-device render runs (and is tested) on a CPU.
// Reductions add the ranks' tensors in rank order on every rank.
class InProcessCommunicator : public Communicator {
 public:
  InProcessCommunicator(std::shared_ptr<ThreadGroup> group, int rank);

  int rank() const override { return rank_; }
  int size() const override { return group_->size(); }
  absl::Status AllReduceSum(torch::Tensor& tensor) override;
  absl::Status AllGather(const torch::Tensor& input,
                         torch::Tensor& output) override;
  absl::Status Broadcast(torch::Tensor& tensor, int root) override;
  absl::Status Barrier() override;
  void Abort() override { group_->Abort(); }

 private:
  std::shared_ptr<ThreadGroup> group_;
  int rank_;
};

// `size` communicators sharing one ThreadGroup; hand one to each thread.
std::vector<std::unique_ptr<Communicator>> MakeInProcessGroup(int size);

}  // namespace reelfarm::pipeline::comm

#endif  // REELFARM_NODE_PIPELINE_COMM_IN_PROCESS_COMMUNICATOR_H_
