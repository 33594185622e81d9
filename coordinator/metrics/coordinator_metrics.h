#ifndef REELFARM_COORDINATOR_METRICS_COORDINATOR_METRICS_H_
#define REELFARM_COORDINATOR_METRICS_COORDINATOR_METRICS_H_

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace reelfarm {

// The coordinator's metrics, kept in a prometheus-cpp registry. The lease
// queue and the gRPC service report events here; families computed at
// scrape time (the queue's gauges of sweeps, jobs and nodes) are added as
// collectables, so nothing has to keep them in step as state changes.
// Thread-safe.
class CoordinatorMetrics {
 public:
  // Window of the per-node throughput gauge.
  static constexpr absl::Duration kThroughputWindow = absl::Seconds(60);

  explicit CoordinatorMetrics(Clock* clock);
  ~CoordinatorMetrics();

  // Adds `collectable`'s families to every scrape, after the registry's.
  void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable);

  // A lease granted `wait` after its AcquireLease call arrived (time parked
  // waiting for work included).
  void LeaseGranted(absl::Duration wait);
  void LeasesExpired(int count);
  // An accepted result of a finished job.
  void JobCompleted(const std::string& node_id, double render_seconds);

  // Every family, in the order an endpoint serves them.
  std::vector<prometheus::MetricFamily> Collect() const;
  // Collect() in the text exposition format.
  std::string Render() const;
  // What an endpoint registers to serve the same families as Collect().
  std::vector<std::weak_ptr<prometheus::Collectable>> Collectables() const;

 private:
  class NodeThroughput;

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* leases_granted_;
  prometheus::Counter* leases_expired_;
  prometheus::Family<prometheus::Counter>* node_jobs_completed_;
  prometheus::Histogram* lease_grant_seconds_;
  prometheus::Histogram* render_seconds_;
  std::shared_ptr<NodeThroughput> throughput_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
};

// Labels of one sample, in order.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A gauge family to fill at scrape time, and one sample of it.
prometheus::MetricFamily GaugeFamily(std::string name, std::string help);
void AddGauge(prometheus::MetricFamily& family, const MetricLabels& labels,
              double value);

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_METRICS_COORDINATOR_METRICS_H_
