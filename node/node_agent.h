#ifndef REELFARM_NODE_NODE_AGENT_H_
#define REELFARM_NODE_NODE_AGENT_H_

#include <grpcpp/channel.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "node/group/group_channel.h"
#include "node/group/process_group.h"
#include "node/renderers/renderer.h"
#include "reelfarm/v1/coordinator.grpc.pb.h"
#include "rpc/grpc_credentials.h"

namespace reelfarm {

struct NodeOptions {
  std::string coordinator;  // host:port
  // Used instead of dialing `coordinator` when set (tests, embedded mode).
  std::shared_ptr<grpc::Channel> channel;
  ClientSecurity security;  // token and TLS for dialing `coordinator`
  std::string node_id;      // default: <hostname>-<pid>
  std::vector<v1::Device> devices;
  uint32_t lanes = 0;  // 0: one per device (or per devices_per_lane)
  // Devices each lane drives together: a lane of several renders the jobs
  // that ask for several devices (devices_per_video) on all of them at once.
  // The last lane gets what is left when the devices do not divide evenly;
  // `lanes` must then be 0.
  uint32_t devices_per_lane = 1;
  // Set on the leader (rank 0) of a process group: the node forms the group
  // on Start and has one lane, every member's device, on which each job
  // renders; the followers (GroupFollower) render along. `devices` holds
  // this process's one device.
  std::optional<ProcessGroupOptions> group;
  std::string precision = "fp32";  // model weights: fp32, fp16 or bf16
  // The SLURM job step this node runs in; copied into every result.
  std::optional<v1::SlurmProvenance> slurm;
  absl::Duration acquire_wait = absl::Seconds(5);
  // When positive, the node drains and its lanes exit once none of them has
  // had work for this long (no lease granted, or none could be asked for).
  absl::Duration exit_when_idle = absl::ZeroDuration();
  absl::Duration rpc_timeout = absl::Seconds(30);
};

// A worker process's main loop: registers with the coordinator, then runs
// one render lane per device (or --lanes), each leasing work on its own, and
// a heartbeat that renews the leases and reports progress.
class NodeAgent {
 public:
  explicit NodeAgent(NodeOptions options);
  ~NodeAgent();

  // Registers (retrying with backoff until it succeeds or Stop is called)
  // and starts the lanes. A coordinator that refuses the node's credentials
  // is an error at once: retrying cannot fix it.
  absl::Status Start();
  // Stop taking leases; jobs in progress finish and are reported, and the
  // rest of a shard is handed back. Returns at once (safe from a
  // signal-watching thread).
  void Drain();
  // Blocks until every lane has exited or `timeout` passes; true when they
  // have.
  bool WaitFor(absl::Duration timeout);
  // Drain and cancel jobs in progress, handing their leases back; returns at
  // once (safe from a signal-watching thread).
  void RequestStop();
  // RequestStop, then wait for the lanes and the heartbeat to exit.
  void Stop();
  // Blocks until every lane has exited (after a stop request).
  void Wait();

  const std::string& node_id() const { return node_id_; }
  // The devices of each lane, by lane.
  const std::vector<std::vector<v1::Device>>& lane_devices() const {
    return lane_devices_;
  }
  uint64_t jobs_completed() const { return jobs_completed_.load(); }
  uint64_t jobs_failed() const { return jobs_failed_.load(); }
  // True when the lanes exited because they had no work for
  // `exit_when_idle`.
  bool exited_idle() const { return exited_idle_.load(); }
  // True when the node's process group lost a member: the lanes stopped and
  // handed their work back.
  bool group_broken() const { return group_broken_.load(); }

 private:
  struct ActiveLease;
  class LaneContext;

  absl::Status Register();
  void LaneLoop(uint32_t lane);
  void RunLease(uint32_t lane, const v1::Lease& lease);
  // Renders and publishes one job; fills the result's files and timings.
  absl::Status RenderJob(uint32_t lane, const v1::Job& job,
                         RenderContext& context, v1::JobResult* result);
  void HeartbeatLoop();
  // Sends a finished job's result, retrying while the coordinator is away
  // (restarting, say): its state is durable, and the lease outlives a short
  // outage. False when the result was refused or could not be sent.
  bool ReportResult(uint32_t lane, const v1::Lease& lease,
                    const v1::JobResult& result, bool failed, bool retryable,
                    const ActiveLease& active);
  void CancelPollsLocked();
  // Counts a lane in or out of work; out restarts the idle clock.
  void SetBusy(bool busy);
  // True when `exit_when_idle` is set and no lane has had work for that
  // long.
  bool IdleTooLong();
  // Waits `d` unless the agent stops first; false when it stopped.
  bool Pause(absl::Duration d);
  std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout) const;
  // Forms the process group and makes its members the lane's devices.
  absl::Status FormGroup();
  // Tells the group's followers `message` (no-op without a group). False
  // when the group is broken; the node then drains.
  bool TellGroup(const GroupMessage& message);
  // Marks the group broken and drains.
  void BreakGroup(const absl::Status& why);

  NodeOptions options_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
  std::string node_id_;
  std::vector<std::vector<v1::Device>> lane_devices_;  // by lane
  absl::Duration heartbeat_interval_ = absl::Seconds(5);

  std::atomic<bool> draining_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> jobs_completed_{0};
  std::atomic<uint64_t> jobs_failed_{0};
  std::atomic<bool> exited_idle_{false};
  std::atomic<bool> group_broken_{false};
  std::unique_ptr<ProcessGroup> group_;  // with options_.group, once formed
  // Set by the group's lane when its own render broke the group.
  bool group_failed_job_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  std::mutex join_mu_;  // Wait and Stop may race from two threads
  std::map<std::string, std::shared_ptr<ActiveLease>> active_;  // by lease id
  std::set<grpc::ClientContext*> polling_;  // lanes waiting in AcquireLease
  std::vector<std::thread> lanes_;
  uint32_t lanes_running_ = 0;  // guarded by mu_; cv_ signals changes
  uint32_t lanes_busy_ = 0;     // guarded by mu_: lanes running a lease
  absl::Time idle_since_;       // guarded by mu_: when the last lease ended
  // Per lane, the renderers it has made, by name; only its lane touches one.
  std::vector<std::map<std::string, std::unique_ptr<Renderer>>> renderers_;
  std::thread heartbeat_;
};

}  // namespace reelfarm

#endif  // REELFARM_NODE_NODE_AGENT_H_
