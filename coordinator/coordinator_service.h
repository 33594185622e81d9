#ifndef REELFARM_COORDINATOR_COORDINATOR_SERVICE_H_
#define REELFARM_COORDINATOR_COORDINATOR_SERVICE_H_

#include "absl/time/time.h"
#include "coordinator/lease_queue/lease_queue.h"
#include "coordinator/lease_waiters.h"
#include "coordinator/manifest_publisher.h"
#include "coordinator/metrics/coordinator_metrics.h"
#include "coordinator/rendezvous_table.h"
#include "coordinator/token_authenticator.h"
#include "reelfarm/v1/coordinator.grpc.pb.h"

namespace reelfarm {

// The gRPC face of the LeaseQueue: translation and validation only, no state.
// AcquireLease uses the callback API so a call waiting for work holds no
// thread (see LeaseWaiters); the other calls are short and synchronous.
// Every method checks the caller's token first (see TokenAuthenticator).
class CoordinatorService final
    : public v1::Coordinator::WithCallbackMethod_AcquireLease<
          v1::Coordinator::Service> {
 public:
  CoordinatorService(LeaseQueue* queue, ManifestPublisher* manifests,
                     LeaseWaiters* waiters, absl::Duration max_lease_wait,
                     const TokenAuthenticator* auth,
                     CoordinatorMetrics* metrics = nullptr,
                     RendezvousTable* rendezvous = nullptr)
      : queue_(queue),
        manifests_(manifests),
        waiters_(waiters),
        max_lease_wait_(max_lease_wait),
        auth_(auth),
        metrics_(metrics),
        rendezvous_(rendezvous) {}

  grpc::Status SubmitSweep(grpc::ServerContext* context,
                           const v1::SubmitSweepRequest* request,
                           v1::SubmitSweepResponse* response) override;
  grpc::Status GetSweep(grpc::ServerContext* context,
                        const v1::GetSweepRequest* request,
                        v1::GetSweepResponse* response) override;
  grpc::Status WatchSweep(
      grpc::ServerContext* context, const v1::WatchSweepRequest* request,
      grpc::ServerWriter<v1::WatchSweepEvent>* writer) override;
  grpc::Status CancelSweep(grpc::ServerContext* context,
                           const v1::CancelSweepRequest* request,
                           v1::CancelSweepResponse* response) override;
  grpc::Status ListSweeps(grpc::ServerContext* context,
                          const v1::ListSweepsRequest* request,
                          v1::ListSweepsResponse* response) override;
  grpc::Status ResumeSweep(grpc::ServerContext* context,
                           const v1::ResumeSweepRequest* request,
                           v1::ResumeSweepResponse* response) override;
  grpc::Status ListNodes(grpc::ServerContext* context,
                         const v1::ListNodesRequest* request,
                         v1::ListNodesResponse* response) override;

  grpc::Status RegisterNode(grpc::ServerContext* context,
                            const v1::RegisterNodeRequest* request,
                            v1::RegisterNodeResponse* response) override;
  grpc::ServerUnaryReactor* AcquireLease(
      grpc::CallbackServerContext* context,
      const v1::AcquireLeaseRequest* request,
      v1::AcquireLeaseResponse* response) override;
  grpc::Status Heartbeat(grpc::ServerContext* context,
                         const v1::HeartbeatRequest* request,
                         v1::HeartbeatResponse* response) override;
  grpc::Status CompleteJob(grpc::ServerContext* context,
                           const v1::CompleteJobRequest* request,
                           v1::CompleteJobResponse* response) override;
  grpc::Status FailJob(grpc::ServerContext* context,
                       const v1::FailJobRequest* request,
                       v1::FailJobResponse* response) override;
  grpc::Status ReleaseLease(grpc::ServerContext* context,
                            const v1::ReleaseLeaseRequest* request,
                            v1::ReleaseLeaseResponse* response) override;

  // Long-polls on the calling thread (at most the table's max_wait): the
  // ranks of a group are few and meet once per render.
  grpc::Status Rendezvous(grpc::ServerContext* context,
                          const v1::RendezvousRequest* request,
                          v1::RendezvousResponse* response) override;

  // Makes Heartbeat tell nodes the coordinator is going away.
  void SetDraining() { draining_ = true; }

 private:
  LeaseQueue* const queue_;
  ManifestPublisher* const manifests_;
  LeaseWaiters* const waiters_;
  const absl::Duration max_lease_wait_;
  const TokenAuthenticator* const auth_;
  CoordinatorMetrics* const metrics_;  // may be nullptr
  RendezvousTable* const rendezvous_;  // nullptr: Rendezvous is unimplemented
  std::atomic<bool> draining_{false};
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_COORDINATOR_SERVICE_H_
