#ifndef REELFARM_NODE_GROUP_PROCESS_GROUP_H_
#define REELFARM_NODE_GROUP_PROCESS_GROUP_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/pipeline/comm/communicator.h"
#include "node/pipeline/comm/socket_communicator.h"
#include "reelfarm/v1/coordinator.grpc.pb.h"

namespace reelfarm {

// Processes, one device each and possibly on several machines, that render
// each video together as the ranks of one device group. Rank 0 (the
// leader) is the node the coordinator sees: one lane with every member's
// device. The others follow it (GroupFollower).
struct ProcessGroupOptions {
  // Names this launch of the group: every member passes the same name, and
  // a relaunch needs a new one (SLURM's job and step ids make one).
  std::string name;
  int rank = 0;
  int size = 1;
  // Where the leader listens for the members; the others connect to the
  // address it posts through the coordinator. A wildcard advertises this
  // machine's hostname.
  std::string bind_host = "0.0.0.0";
  // Bounds forming the group and each wait for a member afterwards (the
  // leader sends followers a word at least every few seconds).
  absl::Duration timeout = absl::Minutes(5);
};

// A formed group: a control communicator over TCP (the leader's messages to
// the followers), and the communicator the render's collectives use: NCCL
// when every member's device is a GPU and the build has NCCL, else the TCP
// one.
class ProcessGroup {
 public:
  // Collective over the members: each calls it with its own rank and
  // device. Returns once all have joined, or fails at the timeout.
  static absl::StatusOr<std::unique_ptr<ProcessGroup>> Form(
      v1::Coordinator::StubInterface* stub, const ProcessGroupOptions& options,
      const v1::Device& device);
  ~ProcessGroup();

  int rank() const { return control_->rank(); }
  int size() const { return control_->size(); }
  pipeline::comm::Communicator& control() { return *control_; }
  pipeline::comm::Communicator& data() {
    return data_ != nullptr ? *data_ : *control_;
  }
  // "host/device" of every member, in rank order.
  const std::vector<std::string>& members() const { return members_; }
  // Ends both communicators (any thread): blocked calls return errors.
  void Abort();

  // While one lives (around a render), when the render has a communicator
  // of its own (NCCL, which waits without a timeout): a thread watches the
  // idle control connections and aborts the group when a member's closes,
  // so ranks blocked on a member that died or failed return. Its abort
  // closes this member's connections in turn, which tells the others.
  class HangupWatch {
   public:
    explicit HangupWatch(ProcessGroup& group);
    ~HangupWatch();

   private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
  };

 private:
  ProcessGroup() = default;

  std::unique_ptr<pipeline::comm::SocketCommunicator> control_;
  std::unique_ptr<pipeline::comm::Communicator> data_;  // null: control_
  std::vector<std::string> members_;
};

// Checks the flags of a group member; the error names the flag.
absl::Status CheckProcessGroupOptions(const ProcessGroupOptions& options,
                                      size_t devices);

}  // namespace reelfarm

#endif  // REELFARM_NODE_GROUP_PROCESS_GROUP_H_
