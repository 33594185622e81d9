#ifndef REELFARM_NODE_PIPELINE_COMM_NCCL_COMMUNICATOR_H_
#define REELFARM_NODE_PIPELINE_COMM_NCCL_COMMUNICATOR_H_

#include <nccl.h>

#include <atomic>
#include <memory>

#include "absl/status/statusor.h"
#include "node/pipeline/comm/communicator.h"
#include "node/pipeline/comm/rendezvous.h"

namespace reelfarm::pipeline::comm {

// NCCL over the GPUs of a device group: one rank per GPU, in one process
// (a thread per GPU) or several. Collectives run on the tensor's current
// CUDA stream and are asynchronous with the host, like torch kernels;
// Barrier() waits for them.
class NcclCommunicator : public Communicator {
 public:
  // Collective over the group: every rank calls it with its rank and GPU.
  // Rank 0 makes the ncclUniqueId and hands it out through `rendezvous`.
  static absl::StatusOr<std::unique_ptr<NcclCommunicator>> Create(
      int rank, int size, int cuda_device, Rendezvous& rendezvous);
  ~NcclCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  absl::Status AllReduceSum(torch::Tensor& tensor) override;
  absl::Status AllGather(const torch::Tensor& input,
                         torch::Tensor& output) override;
  absl::Status Broadcast(torch::Tensor& tensor, int root) override;
  absl::Status Barrier() override;
  // ncclCommAbort: collectives blocked on a failed rank return.
  void Abort() override;

 private:
  NcclCommunicator(ncclComm_t comm, int rank, int size, int device)
      : comm_(comm), rank_(rank), size_(size), device_(device) {}

  ncclComm_t comm_;
  int rank_, size_, device_;
  std::atomic<bool> aborted_{false};
};

// torch dtype -> NCCL dtype; InvalidArgument for types NCCL lacks.
absl::StatusOr<ncclDataType_t> NcclType(torch::ScalarType type);

}  // namespace reelfarm::pipeline::comm

#endif  // REELFARM_NODE_PIPELINE_COMM_NCCL_COMMUNICATOR_H_
