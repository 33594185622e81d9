#ifndef REELFARM_NODE_GROUP_GROUP_CHANNEL_H_
#define REELFARM_NODE_GROUP_GROUP_CHANNEL_H_

#include "absl/status/statusor.h"
#include "node/pipeline/comm/communicator.h"
#include "reelfarm/v1/sweep.pb.h"

namespace reelfarm {

// What a process group's leader tells its followers between renders, as
// broadcasts from rank 0 on the group's control communicator.
struct GroupMessage {
  enum class Kind : int64_t {
    kJob = 1,   // render `job` with the group
    kIdle = 2,  // nothing yet; keeps the followers' waits alive
    kStop = 3,  // the leader is leaving: exit
  };
  Kind kind = Kind::kIdle;
  v1::Job job;  // kJob only
};

// Leader: every follower receives `message`.
absl::Status SendGroupMessage(pipeline::comm::Communicator& control,
                              const GroupMessage& message);
// Followers: the leader's next message.
absl::StatusOr<GroupMessage> ReceiveGroupMessage(
    pipeline::comm::Communicator& control);

}  // namespace reelfarm

#endif  // REELFARM_NODE_GROUP_GROUP_CHANNEL_H_
