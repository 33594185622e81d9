#ifndef REELFARM_NODE_PIPELINE_COMM_RENDEZVOUS_H_
#define REELFARM_NODE_PIPELINE_COMM_RENDEZVOUS_H_

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace reelfarm::pipeline::comm {

// How the ranks of a device group agree on rank 0's bytes before they can
// talk (NCCL's ncclUniqueId). In one process it is shared memory; between
// processes or nodes it would be a file on the shared filesystem or a
// coordinator RPC, implementing this same call.
class Rendezvous {
 public:
  virtual ~Rendezvous() = default;
  // Rank 0 publishes `bytes`; every rank (0 included) gets rank 0's bytes.
  virtual absl::StatusOr<std::string> Share(int rank,
                                            const std::string& bytes) = 0;
};

// Ranks that are threads of one process.
class InProcessRendezvous : public Rendezvous {
 public:
  absl::StatusOr<std::string> Share(int rank,
                                    const std::string& bytes) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (rank == 0) {
      value_ = bytes;
      cv_.notify_all();
    }
    cv_.wait(lock, [&] { return value_.has_value(); });
    return *value_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::string> value_;
};

}  // namespace reelfarm::pipeline::comm

#endif  // REELFARM_NODE_PIPELINE_COMM_RENDEZVOUS_H_
