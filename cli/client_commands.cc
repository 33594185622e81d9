// `reelfarm submit | status | watch | cancel`: clients of a coordinator.

#include <cstdio>

#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/follow.h"
#include "cli/security_flags.h"
#include "cli/status_tables.h"
#include "cli/sweep_flags.h"
#include "common/errors.h"
#include "coordinator/manifest/manifest.h"
#include "rpc/grpc_status.h"

namespace reelfarm::cli {
namespace {

constexpr char kDefaultCoordinator[] = "127.0.0.1:7400";

// Parses flags shared by the client commands; returns -1 to go on, or an
// exit code to return.
int ParseClientFlags(const char* name, FlagSet& flags,
                     const std::vector<std::string>& args,
                     std::vector<std::string>* positional, size_t min_args,
                     size_t max_args) {
  absl::StatusOr<std::vector<std::string>> parsed = flags.Parse(args);
  if (!parsed.ok()) return Fail(name, parsed.status());
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return kExitOk;
  }
  if (parsed->size() < min_args || parsed->size() > max_args) {
    return Fail(name, absl::InvalidArgumentError(
                          "wrong number of arguments (see --help)"));
  }
  *positional = *std::move(parsed);
  return -1;
}

void PrintSweepLine(const v1::SweepStatus& s) {
  std::fputs(SweepTable({s}, absl::Now()).c_str(), stdout);
}

}  // namespace

int SubmitCommand(const std::vector<std::string>& args) {
  FlagSet flags("reelfarm submit SWEEP.yaml [flags]",
                "Sends a sweep to a coordinator and prints its id.");
  SweepFlags sweep_flags;
  sweep_flags.Register(flags);
  std::string coordinator = kDefaultCoordinator;
  bool watch = false;
  flags.String("coordinator", &coordinator, "the coordinator's host:port");
  ClientSecurityFlags security_flags;
  security_flags.Register(flags);
  flags.Bool("watch", &watch, "follow the sweep until it finishes");
  std::vector<std::string> positional;
  if (int rc = ParseClientFlags("submit", flags, args, &positional, 1, 1);
      rc >= 0) {
    return rc;
  }
  absl::StatusOr<v1::SweepSpec> spec = sweep_flags.Load(positional[0]);
  if (!spec.ok()) return Fail("submit", spec.status());
  absl::StatusOr<ClientSecurity> security = security_flags.Load();
  if (!security.ok()) return Fail("submit", security.status());
  auto stub = Connect(coordinator, *security);
  v1::SubmitSweepRequest request;
  *request.mutable_spec() = *spec;
  v1::SubmitSweepResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
  if (absl::Status st =
          FromGrpcStatus(stub->SubmitSweep(&ctx, request, &response));
      !st.ok()) {
    return Fail("submit", st);
  }
  std::printf("%s\n", response.sweep_id().c_str());
  std::fprintf(stderr, "%s; outputs in %s\n", SubmitSummary(response).c_str(),
               spec->output_dir().c_str());
  if (!watch) return kExitOk;
  ProgressPrinter printer(stderr);
  grpc::ClientContext watch_ctx;
  absl::StatusOr<v1::SweepStatus> final_status =
      FollowSweep(*stub, response.sweep_id(), printer, &watch_ctx);
  if (!final_status.ok()) return Fail("submit", final_status.status());
  return ExitCodeForSweep(*final_status);
}

int StatusCommand(const std::vector<std::string>& args) {
  FlagSet flags("reelfarm status [SWEEP_ID] [flags]",
                "Lists sweeps, or shows one sweep's jobs, or (--nodes) the "
                "nodes.");
  std::string coordinator = kDefaultCoordinator;
  bool nodes = false;
  flags.String("coordinator", &coordinator, "the coordinator's host:port");
  flags.Bool("nodes", &nodes,
             "list the nodes: lanes, devices, when last heard from, "
             "quarantine");
  ClientSecurityFlags security_flags;
  security_flags.Register(flags);
  std::vector<std::string> positional;
  if (int rc = ParseClientFlags("status", flags, args, &positional, 0, 1);
      rc >= 0) {
    return rc;
  }
  if (nodes && !positional.empty()) {
    return Fail("status", absl::InvalidArgumentError(
                              "--nodes takes no sweep id (see --help)"));
  }
  absl::StatusOr<ClientSecurity> security = security_flags.Load();
  if (!security.ok()) return Fail("status", security.status());
  auto stub = Connect(coordinator, *security);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (nodes) {
    v1::ListNodesResponse response;
    if (absl::Status st = FromGrpcStatus(
            stub->ListNodes(&ctx, v1::ListNodesRequest(), &response));
        !st.ok()) {
      return Fail("status", st);
    }
    const std::vector<v1::Node> nodes(response.nodes().begin(),
                                      response.nodes().end());
    std::fputs(NodeTable(nodes, absl::Now()).c_str(), stdout);
    std::fputs("\n", stdout);
    std::fputs(LaneTable(nodes).c_str(), stdout);
    return kExitOk;
  }
  if (positional.empty()) {
    v1::ListSweepsResponse response;
    if (absl::Status st = FromGrpcStatus(
            stub->ListSweeps(&ctx, v1::ListSweepsRequest(), &response));
        !st.ok()) {
      return Fail("status", st);
    }
    std::fputs(SweepTable({response.sweeps().begin(), response.sweeps().end()},
                          absl::Now())
                   .c_str(),
               stdout);
    return kExitOk;
  }
  v1::GetSweepRequest request;
  request.set_sweep_id(positional[0]);
  request.set_include_jobs(true);
  v1::GetSweepResponse response;
  if (absl::Status st =
          FromGrpcStatus(stub->GetSweep(&ctx, request, &response));
      !st.ok()) {
    return Fail("status", st);
  }
  PrintSweepLine(response.sweep());
  std::vector<std::vector<std::string>> rows = {
      {"JOB", "STATE", "TRY", "OUTPUT / ERROR"}};
  for (const v1::JobStatus& j : response.jobs()) {
    rows.push_back({j.job().id(), JobStateName(j.state()),
                    std::to_string(j.attempts()),
                    j.state() == v1::JOB_STATE_DONE ? j.job().output_name()
                                                    : j.last_error()});
  }
  std::printf("\n%s", FormatTable(rows, {false, false, true, false}).c_str());
  return kExitOk;
}

int WatchCommand(const std::vector<std::string>& args) {
  FlagSet flags("reelfarm watch SWEEP_ID [flags]",
                "Follows a sweep until it finishes; exits 0 when every job "
                "is done.");
  std::string coordinator = kDefaultCoordinator;
  flags.String("coordinator", &coordinator, "the coordinator's host:port");
  ClientSecurityFlags security_flags;
  security_flags.Register(flags);
  std::vector<std::string> positional;
  if (int rc = ParseClientFlags("watch", flags, args, &positional, 1, 1);
      rc >= 0) {
    return rc;
  }
  absl::StatusOr<ClientSecurity> security = security_flags.Load();
  if (!security.ok()) return Fail("watch", security.status());
  auto stub = Connect(coordinator, *security);
  ProgressPrinter printer(stdout);
  grpc::ClientContext ctx;
  absl::StatusOr<v1::SweepStatus> final_status =
      FollowSweep(*stub, positional[0], printer, &ctx);
  if (!final_status.ok()) return Fail("watch", final_status.status());
  return ExitCodeForSweep(*final_status);
}

int CancelCommand(const std::vector<std::string>& args) {
  FlagSet flags("reelfarm cancel SWEEP_ID [flags]",
                "Cancels a sweep's jobs that have not finished; finished "
                "outputs stay.");
  std::string coordinator = kDefaultCoordinator;
  flags.String("coordinator", &coordinator, "the coordinator's host:port");
  ClientSecurityFlags security_flags;
  security_flags.Register(flags);
  std::vector<std::string> positional;
  if (int rc = ParseClientFlags("cancel", flags, args, &positional, 1, 1);
      rc >= 0) {
    return rc;
  }
  absl::StatusOr<ClientSecurity> security = security_flags.Load();
  if (!security.ok()) return Fail("cancel", security.status());
  auto stub = Connect(coordinator, *security);
  v1::CancelSweepRequest request;
  request.set_sweep_id(positional[0]);
  v1::CancelSweepResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (absl::Status st =
          FromGrpcStatus(stub->CancelSweep(&ctx, request, &response));
      !st.ok()) {
    return Fail("cancel", st);
  }
  PrintSweepLine(response.sweep());
  return kExitOk;
}

int ResumeCommand(const std::vector<std::string>& args) {
  FlagSet flags("reelfarm resume SWEEP_ID [flags]",
                "Queues a sweep's failed and cancelled jobs again, and its "
                "finished jobs whose\nfiles are missing or corrupted "
                "(checked against their sha256).");
  std::string coordinator = kDefaultCoordinator;
  bool watch = false;
  flags.String("coordinator", &coordinator, "the coordinator's host:port");
  flags.Bool("watch", &watch, "follow the sweep until it finishes");
  ClientSecurityFlags security_flags;
  security_flags.Register(flags);
  std::vector<std::string> positional;
  if (int rc = ParseClientFlags("resume", flags, args, &positional, 1, 1);
      rc >= 0) {
    return rc;
  }
  absl::StatusOr<ClientSecurity> security = security_flags.Load();
  if (!security.ok()) return Fail("resume", security.status());
  auto stub = Connect(coordinator, *security);
  v1::ResumeSweepRequest request;
  request.set_sweep_id(positional[0]);
  v1::ResumeSweepResponse response;
  grpc::ClientContext ctx;
  // Verifying a big sweep's files takes a while.
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(1));
  if (absl::Status st =
          FromGrpcStatus(stub->ResumeSweep(&ctx, request, &response));
      !st.ok()) {
    return Fail("resume", st);
  }
  std::fprintf(stderr,
               "%llu job(s) queued again, %llu done with intact files\n",
               static_cast<unsigned long long>(response.requeued()),
               static_cast<unsigned long long>(response.already_done()));
  PrintSweepLine(response.sweep());
  if (!watch) return kExitOk;
  ProgressPrinter printer(stderr);
  grpc::ClientContext watch_ctx;
  absl::StatusOr<v1::SweepStatus> final_status =
      FollowSweep(*stub, positional[0], printer, &watch_ctx);
  if (!final_status.ok()) return Fail("resume", final_status.status());
  return ExitCodeForSweep(*final_status);
}

}  // namespace reelfarm::cli
