#ifndef REELFARM_NODE_PIPELINE_COMM_COMMUNICATOR_H_
#define REELFARM_NODE_PIPELINE_COMM_COMMUNICATOR_H_

#include <torch/types.h>

#include "absl/status/status.h"

namespace reelfarm::pipeline::comm {

// Collectives over torch tensors among the `size()` ranks of one device
// group (the GPUs of a lane rendering one video). Every rank calls the same
// collectives in the same order with tensors of the same shape and dtype;
// tensors live on the rank's device. Results are bitwise identical on all
// ranks, so ranks that step a scheduler on them stay in lockstep.
class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // In place: every rank's `tensor` becomes the sum over ranks.
  virtual absl::Status AllReduceSum(torch::Tensor& tensor) = 0;

  // `output` (contiguous, size() * input.numel() elements) becomes the
  // ranks' inputs in rank order.
  virtual absl::Status AllGather(const torch::Tensor& input,
                                 torch::Tensor& output) = 0;

  // In place: every rank's `tensor` becomes rank `root`'s.
  virtual absl::Status Broadcast(torch::Tensor& tensor, int root) = 0;

  // Returns once every rank has called it.
  virtual absl::Status Barrier() = 0;

  // Ends the group from any thread: collectives in progress and later ones,
  // on every rank of this process, return an error instead of waiting for
  // a rank that failed. The communicator cannot be used again.
  virtual void Abort() {}
};

}  // namespace reelfarm::pipeline::comm

#endif  // REELFARM_NODE_PIPELINE_COMM_COMMUNICATOR_H_
