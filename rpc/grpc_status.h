#ifndef REELFARM_RPC_GRPC_STATUS_H_
#define REELFARM_RPC_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace reelfarm {

// The two status types carry the same codes; these keep the message.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace reelfarm

#endif  // REELFARM_RPC_GRPC_STATUS_H_
