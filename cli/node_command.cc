// `reelfarm node`: renders leased jobs; with --group, as one member of a
// process group that renders each video together.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/follow.h"
#include "cli/security_flags.h"
#include "cli/signals.h"
#include "common/errors.h"
#include "common/log.h"
#include "node/devices.h"
#include "node/group/group_member.h"
#include "node/node_agent.h"
#include "node/pipeline/animatediff/model_bundle.h"
#include "node/slurm_env.h"
#include "rpc/grpc_credentials.h"

namespace reelfarm::cli {
namespace {

// The flags that make a node one member of a process group.
struct GroupFlags {
  std::string name;
  uint32_t rank = 0;
  uint32_t size = 0;
  std::string bind = "0.0.0.0";
  double timeout_s = 300;

  void Register(FlagSet& flags) {
    flags.String("group", &name,
                 "render every video with the other members of this process "
                 "group (one\ndevice each, on any machines); 'slurm' takes "
                 "name, rank and size from\nthe SLURM step");
    flags.Uint("group-rank", &rank,
               "this member's rank; rank 0 leads: it leases and publishes");
    flags.Uint("group-size", &size, "members in the group");
    flags.String("group-bind", &bind,
                 "where the leader listens for the members (0.0.0.0: "
                 "advertises its hostname)");
    flags.Double("group-timeout", &timeout_s,
                 "seconds to wait for the members to meet, and for a member "
                 "that stops answering");
  }

  absl::StatusOr<std::optional<ProcessGroupOptions>> Load(
      size_t devices) const {
    if (name.empty()) return std::nullopt;
    ProcessGroupOptions o;
    if (name == "slurm") {
      std::optional<ProcessGroupOptions> slurm = ProcessGroupFromSlurm(
          [](const char* var) { return std::getenv(var); });
      if (!slurm) {
        return absl::InvalidArgumentError(
            "--group slurm outside a SLURM step (no SLURM_JOB_ID, "
            "SLURM_PROCID or SLURM_NTASKS)");
      }
      o = *slurm;
    } else {
      o.name = name;
      o.rank = static_cast<int>(rank);
      o.size = static_cast<int>(size);
    }
    o.bind_host = bind;
    o.timeout = absl::Seconds(timeout_s);
    if (absl::Status st = CheckProcessGroupOptions(o, devices); !st.ok()) {
      return st;
    }
    return o;
  }
};

// Rank > 0 of a process group: renders along with the leader until it
// stops.
int RunFollower(const ProcessGroupOptions& group_options,
                const ClientSecurity& security, const std::string& coordinator,
                const v1::Device& device, const std::string& precision) {
  auto stub = v1::Coordinator::NewStub(
      CoordinatorChannel(coordinator, security, grpc::ChannelArguments()));
  LogInfo("joining process group ", group_options.name, " as rank ",
          group_options.rank, " of ", group_options.size);
  // The leader drains on the same signal (srun sends it to every task) and
  // says stop once its jobs are done; a second signal leaves at once.
  // Before the group has formed there is nothing to finish.
  std::atomic<GroupFollower*> running{nullptr};
  std::atomic<int> signals_seen{0};
  SignalWatcher signals([&](int sig) {
    GroupFollower* follower = running.load();
    if (follower == nullptr) {
      LogInfo("signal ", sig, ": leaving before the group formed");
      std::_Exit(kExitOk);
    }
    if (signals_seen.fetch_add(1) == 0) {
      LogInfo("signal ", sig, ": staying until the leader stops");
    } else {
      LogInfo("signal ", sig, ": leaving the group");
      follower->Stop();
    }
  });
  absl::StatusOr<std::unique_ptr<ProcessGroup>> group =
      ProcessGroup::Form(stub.get(), group_options, device);
  if (!group.ok()) {
    signals.Stop();
    return Fail("node", group.status());
  }
  RenderEnvironment environment;
  environment.devices = {device};
  environment.group = &(*group)->data();
  environment.precision = precision;
  GroupFollower follower(group->get(), environment);
  running.store(&follower);
  const absl::Status st = follower.Run();
  running.store(nullptr);
  signals.Stop();
  LogInfo("rank ", group_options.rank, ": rendered ", follower.jobs_rendered(),
          " job(s) with the group");
  if (st.ok() || st.code() == absl::StatusCode::kCancelled) return kExitOk;
  return Fail("node", st);
}

}  // namespace

int NodeCommand(const std::vector<std::string>& args) {
  BlockShutdownSignals();
  FlagSet flags("reelfarm node --coordinator HOST:PORT [flags]",
                "Renders jobs leased from a coordinator. SIGTERM, SIGINT or "
                "SIGUSR2 make it\nstop taking work, finish its current jobs "
                "within --drain-timeout (handing back\nwhat it cannot "
                "finish), and exit 0; a second signal hands back at once.");
  std::string coordinator;
  std::string devices = "auto";
  std::string node_id;
  uint32_t lanes = 0;
  flags.String("coordinator", &coordinator, "the coordinator's host:port");
  flags.String("devices", &devices,
               "cpu, CUDA ordinals such as 0,1, or auto (CUDA_VISIBLE_DEVICES, "
               "then libtorch, then cpu)");
  flags.Uint("lanes", &lanes, "render lanes (default: one per device)");
  uint32_t devices_per_lane = 1;
  flags.Uint("devices-per-lane", &devices_per_lane,
             "devices each lane drives together: jobs with devices_per_video "
             "render on all of them at once");
  flags.String("node-id", &node_id, "name in the manifest (default host-pid)");
  std::string precision = "fp32";
  flags.String("precision", &precision,
               "model weights: fp32, fp16 or bf16 (half: GPUs)");
  double drain_timeout_s = 60;
  flags.Double("drain-timeout", &drain_timeout_s,
               "seconds a drain waits for current jobs before handing them "
               "back");
  double exit_when_idle_s = 0;
  flags.Double("exit-when-idle", &exit_when_idle_s,
               "exit 0 once no lane has had work for this many seconds (0: "
               "never)");
  GroupFlags group_flags;
  group_flags.Register(flags);
  ClientSecurityFlags security_flags;
  security_flags.Register(flags);
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) return Fail("node", positional.status());
  if (absl::Status st = pipeline::ParsePrecision(precision).status();
      !st.ok()) {
    return Fail("node", st);
  }
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return kExitOk;
  }
  if (coordinator.empty() || !positional->empty()) {
    return Fail("node", absl::InvalidArgumentError(
                            "--coordinator HOST:PORT is required"));
  }
  if (exit_when_idle_s < 0) {
    return Fail("node", absl::InvalidArgumentError(
                            "--exit-when-idle must not be negative"));
  }
  absl::StatusOr<ClientSecurity> security = security_flags.Load();
  if (!security.ok()) return Fail("node", security.status());
  absl::StatusOr<std::vector<v1::Device>> found = DiscoverDevices(devices);
  if (!found.ok()) return Fail("node", found.status());
  if (absl::Status st = CheckLaneLayout(found->size(), lanes, devices_per_lane);
      !st.ok()) {
    return Fail("node", st);
  }
  absl::StatusOr<std::optional<ProcessGroupOptions>> group =
      group_flags.Load(found->size());
  if (!group.ok()) return Fail("node", group.status());
  if (group->has_value() && (*group)->rank > 0) {
    return RunFollower(**group, *security, coordinator, found->front(),
                       precision);
  }
  NodeOptions options;
  options.group = *group;
  options.coordinator = coordinator;
  options.security = *std::move(security);
  options.devices = *found;
  options.lanes = lanes;
  options.devices_per_lane = devices_per_lane;
  options.node_id = node_id;
  options.precision = precision;
  options.exit_when_idle = absl::Seconds(exit_when_idle_s);
  options.slurm = SlurmProvenanceFromEnvironment(
      [](const char* name) { return std::getenv(name); });
  NodeAgent node(options);
  // Set by the first signal; read by this thread, which enforces it.
  std::atomic<int64_t> drain_deadline_ns{0};
  std::atomic<bool> started{false};
  SignalWatcher signals([&](int sig) {
    if (options.group.has_value() && !started.load()) {
      // Forming its group: no lease is held yet, nothing to hand back.
      LogInfo("signal ", sig, ": leaving before the group formed");
      std::_Exit(kExitOk);
    }
    if (drain_deadline_ns.load() == 0) {
      LogInfo("signal ", sig, ": draining: no new work; current jobs get ",
              drain_timeout_s, " s to finish");
      drain_deadline_ns.store(
          absl::ToUnixNanos(absl::Now() + absl::Seconds(drain_timeout_s)));
      node.Drain();
    } else {
      LogInfo("signal ", sig, ": handing back work and stopping");
      node.RequestStop();
    }
  });
  if (absl::Status st = node.Start(); !st.ok()) {
    signals.Stop();
    return st.code() == absl::StatusCode::kCancelled ? kExitOk
                                                     : Fail("node", st);
  }
  started.store(true);
  while (!node.WaitFor(absl::Milliseconds(200))) {
    const int64_t deadline = drain_deadline_ns.load();
    if (deadline != 0 && absl::Now() >= absl::FromUnixNanos(deadline)) {
      LogInfo("drain timeout: handing back unfinished jobs");
      node.RequestStop();
    }
  }
  node.Wait();
  signals.Stop();
  node.Stop();
  LogInfo("node ", node.node_id(), ": ", node.jobs_completed(),
          " job(s) completed, ", node.jobs_failed(), " failed");
  if (node.group_broken()) {
    return Fail("node", absl::UnavailableError(
                            "the process group lost a member; its work was "
                            "handed back"));
  }
  return kExitOk;
}

}  // namespace reelfarm::cli
