#ifndef REELFARM_COORDINATOR_COORDINATOR_SERVER_H_
#define REELFARM_COORDINATOR_COORDINATOR_SERVER_H_

#include <grpcpp/server.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "coordinator/coordinator_service.h"
#include "coordinator/lease_queue/lease_queue.h"
#include "coordinator/lease_waiters.h"
#include "coordinator/manifest/output_verifier.h"
#include "coordinator/manifest_publisher.h"
#include "coordinator/metrics/coordinator_metrics.h"
#include "coordinator/metrics/metrics_endpoint.h"
#include "coordinator/rendezvous_table.h"
#include "coordinator/server_security.h"
#include "coordinator/state/state_store.h"
#include "coordinator/token_authenticator.h"

namespace reelfarm {

struct CoordinatorOptions {
  // host:port; port 0 lets the OS choose (see address()).
  std::string listen_address = "127.0.0.1:0";
  LeaseQueueOptions queue;
  absl::Duration manifest_interval = absl::Seconds(1);
  absl::Duration max_lease_wait = absl::Seconds(10);
  // On Shutdown, how long to keep serving nodes that still hold leases, so
  // that results of jobs finishing as the coordinator stops (a SLURM job
  // ending, say) are recorded. No new leases are granted meanwhile.
  absl::Duration lease_grace = absl::ZeroDuration();
  Clock* clock = nullptr;  // nullptr: the real clock
  // A token, or an explicit `insecure`; Start refuses neither.
  ServerSecurity security;
  // host:port serving Prometheus metrics over HTTP at /metrics (port 0: any,
  // see metrics_address()); empty: no metrics server.
  std::string metrics_listen;
};

// The queue behind a gRPC server (health checking on; reflection only
// when no token is required), with a timer that expires leases and a
// publisher that writes manifests.
class CoordinatorServer {
 public:
  // `store` may be nullptr: state then lives in the queue's memory only
  // and a restart forgets it.
  static absl::StatusOr<std::unique_ptr<CoordinatorServer>> Start(
      CoordinatorOptions options, std::unique_ptr<StateStore> store = nullptr);
  ~CoordinatorServer();

  // "host:port" with the port actually bound.
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  // "host:port" of the metrics server; empty when it is off.
  std::string metrics_address() const {
    return metrics_endpoint_ ? metrics_endpoint_->address() : "";
  }
  CoordinatorMetrics* metrics() { return metrics_.get(); }
  LeaseQueue* lease_queue() { return queue_.get(); }
  ManifestPublisher* manifests() { return manifests_.get(); }

  // Stops taking calls, lets running ones finish within `grace`, writes the
  // manifests and returns. Safe to call twice.
  void Shutdown(absl::Duration grace = absl::Seconds(5));
  // Blocks until Shutdown has finished.
  void Wait();

 private:
  CoordinatorServer() = default;
  void ExpiryLoop();

  CoordinatorOptions options_;
  std::unique_ptr<StateStore> store_;
  FileOutputVerifier verifier_;                  // unless options name another
  std::unique_ptr<CoordinatorMetrics> metrics_;  // outlives the queue
  std::unique_ptr<LeaseQueue> queue_;
  std::unique_ptr<ManifestPublisher> manifests_;
  std::unique_ptr<LeaseWaiters> waiters_;
  std::unique_ptr<TokenAuthenticator> auth_;
  std::unique_ptr<RendezvousTable> rendezvous_;
  std::unique_ptr<CoordinatorService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;  // reads the queue
  std::string address_;
  int port_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread expiry_thread_;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_COORDINATOR_SERVER_H_
