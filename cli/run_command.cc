// `reelfarm run`: the laptop path. A coordinator bound to loopback and a node
// in the same process, talking over real gRPC, so it behaves exactly like a
// cluster of one.

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/follow.h"
#include "cli/signals.h"
#include "cli/sweep_flags.h"
#include "common/atomic_file.h"
#include "common/errors.h"
#include "coordinator/coordinator_server.h"
#include "coordinator/manifest/gallery.h"
#include "coordinator/manifest/manifest.h"
#include "coordinator/state/sqlite_state_store.h"
#include "node/devices.h"
#include "node/node_agent.h"
#include "node/pipeline/animatediff/model_bundle.h"
#include "node/slurm_env.h"
#include "rpc/grpc_status.h"
#include "rpc/token.h"

namespace reelfarm::cli {
namespace {

constexpr char kRunStateFolder[] = ".reelfarm-state";

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  BlockShutdownSignals();
  FlagSet flags("reelfarm run SWEEP.yaml [flags]",
                "Renders every job of a sweep on this machine and writes the "
                "outputs,\nmanifest.json and metadata.jsonl into the output "
                "folder. Takes AnimateDiff's\nprompt configs as they are, and "
                "animate.py's flags.");
  SweepFlags sweep_flags;
  sweep_flags.Register(flags);
  std::string devices = "auto";
  uint32_t lanes = 0;
  flags.String("devices", &devices,
               "cpu, CUDA ordinals such as 0,1, or cpu,cpu (CPU ranks in "
               "place of GPUs)");
  flags.Uint("lanes", &lanes, "render lanes (default: one per device)");
  uint32_t devices_per_lane = 1;
  flags.Uint("devices-per-lane", &devices_per_lane,
             "devices each lane drives together: jobs with devices_per_video "
             "render on all of them at once");
  std::string precision = "fp32";
  flags.String("precision", &precision,
               "model weights: fp32, fp16 or bf16 (half: GPUs)");
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) return Fail("run", positional.status());
  if (absl::Status st = pipeline::ParsePrecision(precision).status();
      !st.ok()) {
    return Fail("run", st);
  }
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return kExitOk;
  }
  if (positional->size() != 1) {
    return Fail("run", absl::InvalidArgumentError(
                           "expected one sweep file (see --help)"));
  }
  absl::StatusOr<v1::SweepSpec> spec = sweep_flags.Load(positional->front());
  if (!spec.ok()) return Fail("run", spec.status());
  absl::StatusOr<std::vector<v1::Device>> found = DiscoverDevices(devices);
  if (!found.ok()) return Fail("run", found.status());
  if (absl::Status st = CheckLaneLayout(found->size(), lanes, devices_per_lane);
      !st.ok()) {
    return Fail("run", st);
  }

  // Loopback only, and a fresh token per run: another user on this machine
  // can reach the port but cannot submit, lease or cancel anything.
  absl::StatusOr<std::string> token = GenerateToken();
  if (!token.ok()) return Fail("run", token.status());
  ClientSecurity client_security;
  client_security.token = *token;
  // State lives beside the outputs, so running the same sweep again after a
  // crash or Ctrl-C picks up where it stopped.
  if (absl::Status st = MakeDirectories(spec->output_dir()); !st.ok()) {
    return Fail("run", st);
  }
  absl::StatusOr<std::unique_ptr<SqliteStateStore>> store =
      SqliteStateStore::Open(spec->output_dir() + "/" + kRunStateFolder,
                             ExitOnSyncFailure("run"));
  if (!store.ok()) return Fail("run", store.status());
  CoordinatorOptions coordinator_options;
  coordinator_options.listen_address = "127.0.0.1:0";  // never off-machine
  coordinator_options.security.token = *token;
  absl::StatusOr<std::unique_ptr<CoordinatorServer>> server =
      CoordinatorServer::Start(coordinator_options, *std::move(store));
  if (!server.ok()) return Fail("run", server.status());

  NodeOptions node_options;
  node_options.coordinator = (*server)->address();
  node_options.security = client_security;
  node_options.devices = *found;
  node_options.lanes = lanes;
  node_options.devices_per_lane = devices_per_lane;
  node_options.precision = precision;
  node_options.slurm = SlurmProvenanceFromEnvironment(
      [](const char* name) { return std::getenv(name); });
  NodeAgent node(node_options);
  if (absl::Status st = node.Start(); !st.ok()) return Fail("run", st);

  auto stub = Connect((*server)->address(), client_security);
  v1::SubmitSweepRequest submit;
  *submit.mutable_spec() = *spec;
  v1::SubmitSweepResponse submitted;
  grpc::ClientContext submit_context;
  if (absl::Status st = FromGrpcStatus(
          stub->SubmitSweep(&submit_context, submit, &submitted));
      !st.ok()) {
    return Fail("run", st);
  }
  std::printf("sweep %s: %s -> %s\n", submitted.sweep_id().c_str(),
              SubmitSummary(submitted).c_str(), spec->output_dir().c_str());

  grpc::ClientContext watch_context;
  SignalWatcher signals([&](int) { watch_context.TryCancel(); });
  ProgressPrinter printer(stdout);
  absl::StatusOr<v1::SweepStatus> final_status =
      FollowSweep(*stub, submitted.sweep_id(), printer, &watch_context);
  signals.Stop();
  node.Stop();
  (*server)->Shutdown();
  if (!final_status.ok()) {
    return Fail("run", absl::Status(final_status.status().code(),
                                    "interrupted; finished outputs are kept"));
  }
  std::printf("outputs:  %s\nmanifest: %s/%s\ngallery:  %s/%s\n",
              spec->output_dir().c_str(), spec->output_dir().c_str(),
              kManifestFile, spec->output_dir().c_str(), kGalleryFile);
  return ExitCodeForSweep(*final_status);
}

}  // namespace reelfarm::cli
