#include "node/node_agent.h"

#include <unistd.h>

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/hostname.h"
#include "common/log.h"
#include "node/group/group_member.h"
#include "node/outputs/output_publisher.h"
#include "node/renderers/device_group.h"
#include "node/renderers/renderer.h"
#include "rpc/grpc_status.h"
#include "rpc/proto_time.h"

namespace reelfarm {
namespace {

std::string DefaultNodeId() {
  return absl::StrCat(LocalHostname(), "-", ::getpid());
}

// Errors a different node or a later attempt cannot fix.
bool Retryable(const absl::Status& st) {
  return st.code() != absl::StatusCode::kInvalidArgument &&
         st.code() != absl::StatusCode::kUnimplemented;
}

}  // namespace

struct NodeAgent::ActiveLease {
  std::string id;
  uint64_t epoch = 0;
  uint32_t lane = 0;
  std::atomic<bool> lost{false};

  // The job in progress, how far it is and, when it renders on several
  // devices, each one's progress; read by the heartbeat.
  mutable std::mutex mu;
  std::string job_id;
  double progress = 0;
  std::vector<v1::DeviceProgress> devices;

  void StartJob(const std::string& job, const std::vector<v1::Device>& used) {
    std::lock_guard<std::mutex> lock(mu);
    job_id = job;
    progress = 0;
    devices.clear();
    for (size_t i = 0; used.size() > 1 && i < used.size(); ++i) {
      devices.emplace_back().set_device(used[i].name());
    }
  }
  // The whole job's progress, and each device's with it.
  void SetProgress(double fraction) {
    std::lock_guard<std::mutex> lock(mu);
    progress = fraction;
    for (v1::DeviceProgress& d : devices) d.set_fraction(fraction);
  }
  void SetDeviceProgress(size_t device, double fraction) {
    std::lock_guard<std::mutex> lock(mu);
    if (device >= devices.size()) return;
    devices[device].set_fraction(fraction);
    // The job is as far as its slowest device.
    double slowest = 1.0;
    for (const v1::DeviceProgress& d : devices) {
      slowest = std::min(slowest, d.fraction());
    }
    progress = slowest;
  }
  void Fill(v1::LeaseProgress* p) const {
    std::lock_guard<std::mutex> lock(mu);
    p->set_lease_id(id);
    p->set_epoch(epoch);
    p->set_lane(lane);
    p->set_job_id(job_id);
    p->set_fraction(progress);
    for (const v1::DeviceProgress& d : devices) *p->add_devices() = d;
  }
};

class NodeAgent::LaneContext : public RenderContext {
 public:
  LaneContext(const NodeAgent* agent, ActiveLease* lease)
      : agent_(agent), lease_(lease) {}
  bool Cancelled() const override {
    return lease_->lost.load() || agent_->stopping_.load();
  }
  void ReportProgress(double fraction) override {
    lease_->SetProgress(fraction);
  }
  void ReportDeviceProgress(size_t device, double fraction) override {
    lease_->SetDeviceProgress(device, fraction);
  }

 private:
  const NodeAgent* agent_;
  ActiveLease* lease_;
};

NodeAgent::NodeAgent(NodeOptions options) : options_(std::move(options)) {
  if (options_.node_id.empty()) options_.node_id = DefaultNodeId();
  if (options_.devices.empty()) {
    v1::Device cpu;
    cpu.set_name("cpu");
    options_.devices.push_back(cpu);
  }
  const size_t devices = options_.devices.size();
  if (options_.devices_per_lane > 1) {
    const size_t per_lane = options_.devices_per_lane;
    for (size_t first = 0; first < devices; first += per_lane) {
      lane_devices_.emplace_back(
          options_.devices.begin() + first,
          options_.devices.begin() + std::min(devices, first + per_lane));
    }
    options_.lanes = lane_devices_.size();
  } else if (options_.group.has_value()) {
    // One lane; its devices are the members', known once the group forms.
    options_.lanes = 1;
    lane_devices_.push_back({options_.devices[0]});
  } else {
    if (options_.lanes == 0) options_.lanes = devices;
    for (uint32_t lane = 0; lane < options_.lanes; ++lane) {
      lane_devices_.push_back({options_.devices[lane % devices]});
    }
  }
  std::shared_ptr<grpc::Channel> channel = options_.channel;
  if (channel == nullptr) {
    // A restarted coordinator is found within seconds: gRPC's default
    // reconnect backoff grows to two minutes.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    channel = CoordinatorChannel(options_.coordinator, options_.security, args);
  }
  stub_ = v1::Coordinator::NewStub(channel);
}

NodeAgent::~NodeAgent() { Stop(); }

std::unique_ptr<grpc::ClientContext> NodeAgent::Context(
    absl::Duration timeout) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    absl::ToChronoNanoseconds(timeout));
  return ctx;
}

bool NodeAgent::Pause(absl::Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoNanoseconds(d),
               [this] { return stopping_.load(); });
  return !stopping_.load();
}

absl::Status NodeAgent::Register() {
  v1::RegisterNodeRequest request;
  v1::Node* node = request.mutable_node();
  node->set_id(options_.node_id);
  node->set_host(LocalHostname());
  node->set_lanes(options_.lanes);
  for (const v1::Device& d : options_.devices) *node->add_devices() = d;
  for (uint32_t lane = 0; lane < options_.lanes; ++lane) {
    v1::Lane* l = node->add_lane_layout();
    l->set_index(lane);
    for (const v1::Device& d : lane_devices_[lane]) l->add_devices(d.name());
  }
  // Exponential backoff with jitter: a coordinator that is restarting is
  // not hammered by every node at once.
  std::mt19937_64 rng(std::random_device{}());
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stopping_.load()) {
    v1::RegisterNodeResponse response;
    auto ctx = Context(absl::Seconds(10));
    grpc::Status st = stub_->RegisterNode(ctx.get(), request, &response);
    if (st.ok()) {
      node_id_ = response.node_id();
      heartbeat_interval_ =
          absl::Milliseconds(std::max(10u, response.heartbeat_interval_ms()));
      return absl::OkStatus();
    }
    if (st.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
        st.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
      return absl::UnauthenticatedError(
          absl::StrCat("coordinator ", options_.coordinator,
                       " refused this node: ", st.error_message()));
    }
    LogWarning("register with ", options_.coordinator, ": ", st.error_message(),
               "; retrying");
    const double jitter = std::uniform_real_distribution<>(0.5, 1.5)(rng);
    if (!Pause(backoff * jitter)) break;
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
  return absl::CancelledError("stopped before registering");
}

absl::Status NodeAgent::Start() {
  if (options_.group.has_value()) {
    if (absl::Status st = FormGroup(); !st.ok()) return st;
  }
  if (absl::Status st = Register(); !st.ok()) return st;
  LogInfo("node ", node_id_, ": ", options_.lanes, " lane(s) on ",
          options_.devices.size(), " device(s)");
  renderers_.resize(options_.lanes);
  heartbeat_ = std::thread([this] { HeartbeatLoop(); });
  {
    std::lock_guard<std::mutex> lock(mu_);
    lanes_running_ = options_.lanes;
    idle_since_ = absl::Now();
  }
  for (uint32_t lane = 0; lane < options_.lanes; ++lane) {
    lanes_.emplace_back([this, lane] {
      LaneLoop(lane);
      std::lock_guard<std::mutex> lock(mu_);
      --lanes_running_;
      cv_.notify_all();
    });
  }
  return absl::OkStatus();
}

void NodeAgent::CancelPollsLocked() {
  for (grpc::ClientContext* ctx : polling_) ctx->TryCancel();
}

void NodeAgent::SetBusy(bool busy) {
  std::lock_guard<std::mutex> lock(mu_);
  if (busy) {
    ++lanes_busy_;
  } else {
    --lanes_busy_;
    idle_since_ = absl::Now();
  }
}

bool NodeAgent::IdleTooLong() {
  if (options_.exit_when_idle <= absl::ZeroDuration()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return lanes_busy_ == 0 &&
         absl::Now() - idle_since_ >= options_.exit_when_idle;
}

void NodeAgent::Drain() {
  std::lock_guard<std::mutex> lock(mu_);
  draining_.store(true);
  CancelPollsLocked();
}

bool NodeAgent::WaitFor(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [this] { return lanes_running_ == 0; });
}

void NodeAgent::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_.store(true);
    stopping_.store(true);
    CancelPollsLocked();
  }
  cv_.notify_all();
}

void NodeAgent::Stop() {
  RequestStop();
  Wait();
  std::lock_guard<std::mutex> lock(join_mu_);
  if (heartbeat_.joinable()) heartbeat_.join();
}

void NodeAgent::Wait() {
  std::lock_guard<std::mutex> lock(join_mu_);
  for (std::thread& t : lanes_) {
    if (t.joinable()) t.join();
  }
}

void NodeAgent::LaneLoop(uint32_t lane) {
  absl::Duration backoff = absl::Milliseconds(50);
  // An idle node notices within a poll, so polls are no longer than the
  // idle limit.
  const absl::Duration wait =
      options_.exit_when_idle > absl::ZeroDuration()
          ? std::min(options_.acquire_wait, options_.exit_when_idle)
          : options_.acquire_wait;
  while (!draining_.load()) {
    if (IdleTooLong()) {
      if (!exited_idle_.exchange(true)) {
        LogInfo("node ", node_id_, ": no work for ",
                absl::FormatDuration(options_.exit_when_idle), "; draining");
      }
      Drain();
      break;
    }
    v1::AcquireLeaseRequest request;
    request.set_node_id(node_id_);
    request.set_lane(lane);
    request.set_lane_devices(lane_devices_[lane].size());
    request.set_wait_ms(static_cast<uint32_t>(absl::ToInt64Milliseconds(wait)));
    v1::AcquireLeaseResponse response;
    auto ctx = Context(wait + options_.rpc_timeout);
    {
      // Checked under the lock Drain takes, so a drain either sees this poll
      // and cancels it or this lane sees the drain.
      std::lock_guard<std::mutex> lock(mu_);
      if (draining_.load()) break;
      polling_.insert(ctx.get());
    }
    grpc::Status st = stub_->AcquireLease(ctx.get(), request, &response);
    {
      std::lock_guard<std::mutex> lock(mu_);
      polling_.erase(ctx.get());
    }
    if (draining_.load()) {
      // A lease granted as the stop came in goes straight back.
      if (st.ok() && response.has_lease()) {
        v1::ReleaseLeaseRequest release;
        release.set_lease_id(response.lease().id());
        release.set_epoch(response.lease().epoch());
        v1::ReleaseLeaseResponse released;
        auto rctx = Context(absl::Seconds(5));
        stub_->ReleaseLease(rctx.get(), release, &released);
      }
      break;
    }
    if (!st.ok()) {
      LogWarning("lane ", lane, ": acquire lease: ", st.error_message());
      if (!Pause(backoff)) break;
      backoff = std::min(backoff * 2, absl::Seconds(5));
      // The followers wait for word while the coordinator is away.
      if (!TellGroup({GroupMessage::Kind::kIdle, {}})) break;
      continue;
    }
    backoff = absl::Milliseconds(50);
    if (response.has_lease()) {
      SetBusy(true);
      RunLease(lane, response.lease());
      SetBusy(false);
    } else if (!TellGroup({GroupMessage::Kind::kIdle, {}})) {
      break;
    }
  }
  TellGroup({GroupMessage::Kind::kStop, {}});
}

absl::Status NodeAgent::RenderJob(uint32_t lane, const v1::Job& job,
                                  RenderContext& context,
                                  v1::JobResult* result) {
  auto& renderers = renderers_[lane];
  auto it = renderers.find(job.renderer().name());
  if (it == renderers.end()) {
    // CPU lanes share the cores; a GPU lane needs few CPU threads.
    const int threads =
        std::max(1, static_cast<int>(std::thread::hardware_concurrency()) /
                        static_cast<int>(options_.lanes));
    RenderEnvironment environment;
    environment.devices = lane_devices_[lane];
    if (group_ != nullptr) {
      // The lane's devices are the members'; this process renders on its
      // own, as one rank of the group.
      environment.devices = {options_.devices[0]};
      environment.group = &group_->data();
    }
    environment.cpu_threads = threads;
    environment.precision = options_.precision;
    absl::StatusOr<std::unique_ptr<Renderer>> made =
        MakeRenderer(job.renderer(), environment);
    if (!made.ok()) {
      // The followers cannot make it either, and wait to agree on that.
      if (group_ != nullptr) {
        if (absl::Status st = AgreeOnFailure(*group_); !st.ok()) {
          BreakGroup(st);
        }
      }
      return made.status();
    }
    it = renderers.emplace(job.renderer().name(), *std::move(made)).first;
  }
  const absl::Time started = absl::Now();
  absl::StatusOr<Video> video;
  if (group_ != nullptr) {
    GroupState state = GroupState::kIntact;
    video = RenderInGroup(*group_, *it->second, job, context, &state);
    if (state != GroupState::kIntact) {
      // A failure of this rank's own counts against the job (a video too
      // big for the group must not break groups forever); one elsewhere
      // hands it back.
      group_failed_job_ = state == GroupState::kBrokenHere;
      BreakGroup(video.status());
    }
  } else {
    video = it->second->Render(job, context);
  }
  if (!video.ok()) return video.status();
  const absl::Time rendered = absl::Now();
  absl::StatusOr<PublishedOutputs> published = PublishJobOutputs(job, *video);
  if (!published.ok()) return published.status();
  const absl::Time finished = absl::Now();
  for (v1::OutputFile& f : published->files) {
    *result->add_files() = std::move(f);
  }
  for (std::string& w : published->warnings) {
    LogWarning("lane ", lane, ": job ", job.id(), ": ", w);
    result->add_warnings(std::move(w));
  }
  v1::Timings* t = result->mutable_timings();
  *t->mutable_started() = ToProtoTimestamp(started);
  *t->mutable_finished() = ToProtoTimestamp(finished);
  t->set_render_seconds(absl::ToDoubleSeconds(rendered - started));
  t->set_write_seconds(absl::ToDoubleSeconds(finished - rendered));
  return absl::OkStatus();
}

void NodeAgent::RunLease(uint32_t lane, const v1::Lease& lease) {
  auto active = std::make_shared<ActiveLease>();
  active->id = lease.id();
  active->epoch = lease.epoch();
  active->lane = lane;
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_[lease.id()] = active;
  }
  bool handed_back = false;
  for (const v1::Job& job : lease.shard().jobs()) {
    if (active->lost.load()) break;
    if (draining_.load()) {
      // The rest of the shard goes back to the queue for other nodes.
      handed_back = true;
      break;
    }
    const std::vector<v1::Device>& lane_devices = lane_devices_[lane];
    // A process group renders every job on all of its members.
    const std::vector<v1::Device> used(
        lane_devices.begin(),
        lane_devices.begin() +
            (group_ != nullptr ? lane_devices.size()
                               : RanksFor(job.params(), lane_devices.size())));
    if (!TellGroup({GroupMessage::Kind::kJob, job})) {
      handed_back = true;
      break;
    }
    active->StartJob(job.id(), used);
    LaneContext context(this, active.get());
    v1::JobResult result;
    result.set_job_id(job.id());
    result.set_node_id(node_id_);
    result.set_lane(lane);
    for (const v1::Device& d : used) result.add_devices(d.name());
    if (options_.slurm) *result.mutable_slurm() = *options_.slurm;
    const absl::Status st = RenderJob(lane, job, context, &result);
    if (active->lost.load()) break;  // someone else holds the job now
    if (st.ok()) {
      if (ReportResult(lane, lease, result, /*failed=*/false,
                       /*retryable=*/false, *active)) {
        ++jobs_completed_;
      }
      continue;
    }
    if ((st.code() == absl::StatusCode::kCancelled && stopping_.load()) ||
        (group_broken_.load() && !group_failed_job_)) {
      // Not the job's fault: it goes back without counting an attempt.
      handed_back = true;
      break;
    }
    ++jobs_failed_;
    LogWarning("lane ", lane, ": job ", job.id(), " failed: ", st.ToString());
    result.set_error(std::string(st.message()));
    ReportResult(lane, lease, result, /*failed=*/true, Retryable(st), *active);
  }
  if (handed_back && !active->lost.load()) {
    v1::ReleaseLeaseRequest request;
    request.set_lease_id(lease.id());
    request.set_epoch(lease.epoch());
    v1::ReleaseLeaseResponse response;
    auto ctx = Context(absl::Seconds(5));
    stub_->ReleaseLease(ctx.get(), request, &response);
  }
  std::lock_guard<std::mutex> lock(mu_);
  active_.erase(lease.id());
}

bool NodeAgent::ReportResult(uint32_t lane, const v1::Lease& lease,
                             const v1::JobResult& result, bool failed,
                             bool retryable, const ActiveLease& active) {
  absl::Duration backoff = absl::Milliseconds(100);
  for (;;) {
    grpc::Status rpc;
    bool accepted = false;
    auto ctx = Context(options_.rpc_timeout);
    if (failed) {
      v1::FailJobRequest request;
      request.set_lease_id(lease.id());
      request.set_epoch(lease.epoch());
      *request.mutable_result() = result;
      request.set_retryable(retryable);
      v1::FailJobResponse response;
      rpc = stub_->FailJob(ctx.get(), request, &response);
      accepted = response.accepted();
    } else {
      v1::CompleteJobRequest request;
      request.set_lease_id(lease.id());
      request.set_epoch(lease.epoch());
      *request.mutable_result() = result;
      v1::CompleteJobResponse response;
      rpc = stub_->CompleteJob(ctx.get(), request, &response);
      accepted = response.accepted();
    }
    if (rpc.ok()) return accepted;
    const bool transient =
        rpc.error_code() == grpc::StatusCode::UNAVAILABLE ||
        rpc.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    // Given up when the lease is gone: the job is someone else's now, and a
    // published result is found again by whoever renders it next.
    if (!transient || active.lost.load() || stopping_.load()) {
      LogWarning("lane ", lane, ": report ", result.job_id(), ": ",
                 rpc.error_message());
      return false;
    }
    LogDebug("lane ", lane, ": report ", result.job_id(), ": ",
             rpc.error_message(), "; retrying");
    if (!Pause(backoff)) return false;
    backoff = std::min(backoff * 2, absl::Seconds(2));
    // The followers wait for word while the coordinator is away.
    TellGroup({GroupMessage::Kind::kIdle, {}});
  }
}

void NodeAgent::HeartbeatLoop() {
  while (Pause(heartbeat_interval_)) {
    v1::HeartbeatRequest request;
    request.set_node_id(node_id_);
    std::map<std::string, std::shared_ptr<ActiveLease>> snapshot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      snapshot = active_;
    }
    for (const auto& [id, lease] : snapshot) lease->Fill(request.add_leases());
    v1::HeartbeatResponse response;
    auto ctx = Context(heartbeat_interval_ * 2);
    grpc::Status st = stub_->Heartbeat(ctx.get(), request, &response);
    if (!st.ok()) {
      LogDebug("heartbeat: ", st.error_message());
      continue;
    }
    for (const std::string& id : response.lost_lease_ids()) {
      auto it = snapshot.find(id);
      if (it != snapshot.end()) {
        LogWarning("lease ", id, " lost; abandoning its job");
        it->second->lost.store(true);
      }
    }
  }
}

}  // namespace reelfarm
