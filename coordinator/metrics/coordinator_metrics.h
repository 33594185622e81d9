#ifndef REELFARM_COORDINATOR_METRICS_COORDINATOR_METRICS_H_
#define REELFARM_COORDINATOR_METRICS_COORDINATOR_METRICS_H_

#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "common/clock.h"
#include "coordinator/metrics/metrics.h"

namespace reelfarm {

class LeaseQueue;

// The coordinator's metrics. The queue and the gRPC service report
// events here; gauges of sweeps, jobs and nodes are read from the queue
// when scraped (see AttachLeaseQueue).
class CoordinatorMetrics {
 public:
  // Window of the per-node throughput gauge.
  static constexpr absl::Duration kThroughputWindow = absl::Seconds(60);

  explicit CoordinatorMetrics(Clock* clock);

  // Adds the queue's gauges to every scrape; `queue` must outlive
  // this object's Render calls.
  void AttachLeaseQueue(const LeaseQueue* queue);

  // A lease granted `wait` after its AcquireLease call arrived (time parked
  // waiting for work included).
  void LeaseGranted(absl::Duration wait);
  void LeasesExpired(int count);
  // An accepted result of a finished job.
  void JobCompleted(const std::string& node_id, double render_seconds);

  std::string Render() const { return registry_.Render(); }

 private:
  void WriteNodeThroughput(ExpositionWriter& out);

  Clock* const clock_;
  MetricsRegistry registry_;
  CounterFamily* leases_granted_;
  CounterFamily* leases_expired_;
  CounterFamily* node_jobs_completed_;
  Histogram* lease_grant_seconds_;
  Histogram* render_seconds_;

  std::mutex mu_;
  // Per node, when its jobs within the last kThroughputWindow completed.
  std::map<std::string, std::deque<absl::Time>> recent_completions_;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_METRICS_COORDINATOR_METRICS_H_
