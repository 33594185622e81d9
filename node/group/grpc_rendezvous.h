#ifndef REELFARM_NODE_GROUP_GRPC_RENDEZVOUS_H_
#define REELFARM_NODE_GROUP_GRPC_RENDEZVOUS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/pipeline/comm/rendezvous.h"
#include "reelfarm/v1/coordinator.grpc.pb.h"

namespace reelfarm {

// The ranks of a device group meeting through the coordinator's Rendezvous
// RPC: rank 0 posts its bytes under `group`, the others long-poll until
// they are there. `group` must name this one meeting (say, the lease id
// and epoch plus the group's index): the coordinator refuses a second rank
// 0 posting other bytes under a live name.
class GrpcRendezvous : public pipeline::comm::Rendezvous {
 public:
  struct Options {
    // The whole Share, retries included.
    absl::Duration timeout = absl::Minutes(5);
    // How long one call asks the coordinator to hold it open.
    absl::Duration poll = absl::Seconds(10);
  };

  // `stub` (not owned) should come from a channel that carries the
  // coordinator's token (CoordinatorChannel).
  GrpcRendezvous(v1::Coordinator::StubInterface* stub, std::string group,
                 int size, Options options);
  GrpcRendezvous(v1::Coordinator::StubInterface* stub, std::string group,
                 int size)
      : GrpcRendezvous(stub, std::move(group), size, Options()) {}

  // Rank 0's bytes. DeadlineExceeded, naming the group and the time
  // waited, when rank 0 has not posted within the timeout. Calls that end
  // UNAVAILABLE or time out are retried with a short backoff until then;
  // other errors (a wrong token, a conflicting post) are returned at once.
  absl::StatusOr<std::string> Share(int rank,
                                    const std::string& bytes) override;

 private:
  v1::Coordinator::StubInterface* const stub_;
  const std::string group_;
  const int size_;
  const Options options_;
};

}  // namespace reelfarm

#endif  // REELFARM_NODE_GROUP_GRPC_RENDEZVOUS_H_
