#ifndef REELFARM_COORDINATOR_LEASE_WAITERS_H_
#define REELFARM_COORDINATOR_LEASE_WAITERS_H_

#include <grpcpp/support/server_callback.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "coordinator/lease_queue/lease_queue.h"
#include "coordinator/metrics/coordinator_metrics.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm {

// AcquireLease calls that found no work, parked until work appears or their
// wait runs out. One dispatcher thread serves them all, so ten thousand idle
// lanes cost ten thousand small records, not ten thousand threads.
class LeaseWaiters {
 public:
  // `metrics` (may be nullptr) hears of every lease granted here.
  LeaseWaiters(LeaseQueue* queue, CoordinatorMetrics* metrics = nullptr);
  ~LeaseWaiters();

  // Takes over `reactor`: finishes it with a lease in `response`, or with an
  // empty response at `deadline` (real time). `arrived`: when the call came
  // in, for the grant latency.
  void Park(grpc::ServerUnaryReactor* reactor,
            v1::AcquireLeaseResponse* response, std::string node_id,
            uint32_t lane, uint32_t lane_devices, absl::Time deadline,
            absl::Time arrived);

  // Finishes every parked call empty and stops the dispatcher.
  void Shutdown();

 private:
  struct Waiter {
    grpc::ServerUnaryReactor* reactor;
    v1::AcquireLeaseResponse* response;
    std::string node_id;
    uint32_t lane;
    uint32_t lane_devices;
    absl::Time deadline;
    absl::Time arrived;
  };
  void Dispatch();

  LeaseQueue* const queue_;
  CoordinatorMetrics* const metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Waiter> waiters_;  // first come, first served
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_LEASE_WAITERS_H_
