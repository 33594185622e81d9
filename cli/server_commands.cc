// `reelfarm coordinator`: the long-running role that owns the state.

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
#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/log.h"
#include "coordinator/coordinator_server.h"
#include "coordinator/state/sqlite_state_store.h"

namespace reelfarm::cli {

int CoordinatorCommand(const std::vector<std::string>& args) {
  BlockShutdownSignals();
  FlagSet flags("reelfarm coordinator [flags]",
                "Serves sweeps to nodes over gRPC until SIGTERM or SIGINT.");
  std::string listen = "0.0.0.0:7400";
  std::string address_file;
  double lease_ttl_s = 30;
  uint32_t max_attempts = 3;
  std::string state_dir = "reelfarm-state";
  bool no_state = false;
  uint32_t quarantine_after = 3;
  double quarantine_s = 300;
  flags.String("state-dir", &state_dir,
               "folder of the durable state (SQLite); a restarted "
               "coordinator carries on from it");
  flags.Bool("no-state", &no_state,
             "keep state in memory only: a restart forgets every sweep");
  flags.Uint("quarantine-after", &quarantine_after,
             "failures in a row after which a node gets no work for a while");
  flags.Double("quarantine", &quarantine_s,
               "seconds a failing node gets no work");
  flags.String("listen", &listen, "host:port to serve on (port 0: any)");
  flags.String("address-file", &address_file,
               "write the bound host:port here once listening");
  flags.Double("lease-ttl", &lease_ttl_s,
               "seconds a lease lives without a heartbeat");
  flags.Uint("max-attempts", &max_attempts,
             "failed tries per job before it is marked failed");
  double shutdown_grace_s = 10;
  flags.Double("shutdown-grace", &shutdown_grace_s,
               "on SIGTERM, seconds to keep serving nodes that hold jobs "
               "(no new work) so their results are recorded; a second "
               "signal stops at once");
  uint32_t max_lost_leases = 10;
  flags.Uint("max-lost-leases", &max_lost_leases,
             "leases of a job that may expire (node died or went quiet) "
             "before it is marked failed");
  uint32_t max_jobs_per_sweep = 10'000'000;
  flags.Uint("max-jobs-per-sweep", &max_jobs_per_sweep,
             "a sweep with more jobs is refused, before any is made");
  std::string metrics_listen;
  flags.String("metrics-listen", &metrics_listen,
               "host:port serving Prometheus metrics at /metrics (port 0: "
               "any; default off)");
  ServerSecurityFlags security_flags;
  security_flags.Register(flags);
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) return Fail("coordinator", positional.status());
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return kExitOk;
  }
  if (!positional->empty() || lease_ttl_s <= 0 || max_attempts == 0 ||
      quarantine_after == 0 || quarantine_s < 0) {
    return Fail("coordinator",
                absl::InvalidArgumentError(
                    "takes no arguments; --lease-ttl, --max-attempts and "
                    "--quarantine-after must be positive"));
  }
  absl::StatusOr<ServerSecurity> security = security_flags.Load();
  if (!security.ok()) return Fail("coordinator", security.status());
  CoordinatorOptions options;
  options.listen_address = listen;
  options.security = *std::move(security);
  options.metrics_listen = metrics_listen;
  options.queue.lease_ttl = absl::Seconds(lease_ttl_s);
  options.queue.default_max_attempts = max_attempts;
  options.lease_grace = absl::Seconds(std::max(0.0, shutdown_grace_s));
  options.queue.max_lost_leases = std::max<uint32_t>(1, max_lost_leases);
  options.queue.max_jobs_per_sweep = max_jobs_per_sweep;
  options.queue.quarantine_after_failures = quarantine_after;
  options.queue.quarantine_for = absl::Seconds(quarantine_s);
  std::unique_ptr<StateStore> store;
  if (!no_state) {
    absl::StatusOr<std::unique_ptr<SqliteStateStore>> opened =
        SqliteStateStore::Open(state_dir, ExitOnSyncFailure("coordinator"));
    if (!opened.ok()) return Fail("coordinator", opened.status());
    LogInfo("state in ", (*opened)->path());
    store = *std::move(opened);
  }
  absl::StatusOr<std::unique_ptr<CoordinatorServer>> server =
      CoordinatorServer::Start(options, std::move(store));
  if (!server.ok()) return Fail("coordinator", server.status());
  if (!address_file.empty()) {
    if (absl::Status st =
            WriteFileAtomically(address_file, (*server)->address() + "\n");
        !st.ok()) {
      return Fail("coordinator", st);
    }
  }
  std::printf("listening on %s\n", (*server)->address().c_str());
  if (!metrics_listen.empty()) {
    std::printf("metrics on http://%s/metrics\n",
                (*server)->metrics_address().c_str());
  }
  std::fflush(stdout);
  SignalWatcher signals([&](int sig) {
    LogInfo("signal ", sig, ": shutting down");
    (*server)->Shutdown();
  });
  (*server)->Wait();
  return kExitOk;
}

}  // namespace reelfarm::cli
