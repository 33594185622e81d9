#ifndef REELFARM_RPC_PROTO_TIME_H_
#define REELFARM_RPC_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

namespace reelfarm {

// An absl::Time as the wire's Timestamp, to the nanosecond.
inline google::protobuf::Timestamp ToProtoTimestamp(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(t));
}

}  // namespace reelfarm

#endif  // REELFARM_RPC_PROTO_TIME_H_
