#ifndef REELFARM_CLI_FOLLOW_H_
#define REELFARM_CLI_FOLLOW_H_

#include <grpcpp/client_context.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cli/progress.h"
#include "coordinator/state/sqlite_state_store.h"
#include "reelfarm/v1/coordinator.grpc.pb.h"
#include "rpc/grpc_credentials.h"

namespace reelfarm::cli {

// A stub for the coordinator at host:port, with the token and TLS settings
// of `security`.
std::unique_ptr<v1::Coordinator::Stub> Connect(const std::string& address,
                                               const ClientSecurity& security);

// Streams WatchSweep into `printer` until the sweep finishes; returns its
// final status. `context` lets another thread cancel the watch.
absl::StatusOr<v1::SweepStatus> FollowSweep(v1::Coordinator::Stub& stub,
                                            const std::string& sweep_id,
                                            ProgressPrinter& printer,
                                            grpc::ClientContext* context);

// "12 jobs, 4 already done (4 from earlier sweeps), 1 queued again".
std::string SubmitSummary(const v1::SubmitSweepResponse& response);

// Prints an error the way every command does and returns its exit code.
int Fail(const std::string& command, const absl::Status& status);

// State-store options under which a failed flush of the state ends the
// process at once with exit 1, saying why: nothing more is acknowledged,
// and starting again recovers from what the disk holds.
SqliteStateStoreOptions ExitOnSyncFailure(const std::string& command);

}  // namespace reelfarm::cli

#endif  // REELFARM_CLI_FOLLOW_H_
