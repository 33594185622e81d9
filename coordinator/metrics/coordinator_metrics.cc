#include "coordinator/metrics/coordinator_metrics.h"

#include <deque>
#include <map>
#include <mutex>
#include <sstream>

#include "prometheus/text_serializer.h"

namespace reelfarm {
namespace {

// From an immediate grant to a long poll that waited out most of its limit.
const prometheus::Histogram::BucketBoundaries kLeaseGrantBuckets = {
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30};
// From a tiny test model to long clips on a slow card.
const prometheus::Histogram::BucketBoundaries kRenderBuckets = {
    0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800};

}  // namespace

prometheus::MetricFamily GaugeFamily(std::string name, std::string help) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Gauge;
  return family;
}

void AddGauge(prometheus::MetricFamily& family, const MetricLabels& labels,
              double value) {
  prometheus::ClientMetric metric;
  for (const auto& [name, label_value] : labels) {
    metric.label.push_back({name, label_value});
  }
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
}

// reelfarm_node_jobs_per_second: completions per node within the window,
// read on the injected clock at scrape time.
class CoordinatorMetrics::NodeThroughput : public prometheus::Collectable {
 public:
  explicit NodeThroughput(Clock* clock) : clock_(clock) {}

  void Completed(const std::string& node_id) {
    std::lock_guard<std::mutex> lock(mu_);
    recent_[node_id].push_back(clock_->Now());
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family = GaugeFamily(
        "reelfarm_node_jobs_per_second",
        "Jobs each node finished per second over the last 60 seconds.");
    const absl::Time since = clock_->Now() - kThroughputWindow;
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [node, times] : recent_) {
      while (!times.empty() && times.front() <= since) times.pop_front();
      // A node that went quiet reads 0 rather than vanishing.
      AddGauge(family, {{"node", node}},
               times.size() / absl::ToDoubleSeconds(kThroughputWindow));
    }
    return {std::move(family)};
  }

 private:
  Clock* const clock_;
  mutable std::mutex mu_;
  // Per node, when its jobs within the last kThroughputWindow completed.
  mutable std::map<std::string, std::deque<absl::Time>> recent_;
};

CoordinatorMetrics::CoordinatorMetrics(Clock* clock)
    : registry_(std::make_shared<prometheus::Registry>()),
      throughput_(std::make_shared<NodeThroughput>(clock)) {
  leases_granted_ = &prometheus::BuildCounter()
                         .Name("reelfarm_leases_granted_total")
                         .Help("Leases granted to nodes.")
                         .Register(*registry_)
                         .Add({});
  leases_expired_ =
      &prometheus::BuildCounter()
           .Name("reelfarm_leases_expired_total")
           .Help(
               "Leases that expired without a heartbeat; their jobs were "
               "queued again.")
           .Register(*registry_)
           .Add({});
  lease_grant_seconds_ =
      &prometheus::BuildHistogram()
           .Name("reelfarm_lease_grant_seconds")
           .Help(
               "Seconds from an AcquireLease call's arrival to its lease "
               "being granted: results sent with the call, then time "
               "parked waiting for work, included. Calls that end without "
               "a lease are not counted.")
           .Register(*registry_)
           .Add({}, kLeaseGrantBuckets);
  render_seconds_ = &prometheus::BuildHistogram()
                         .Name("reelfarm_render_seconds")
                         .Help(
                             "Render time of finished jobs as the nodes "
                             "report it (JobResult.timings.render_seconds).")
                         .Register(*registry_)
                         .Add({}, kRenderBuckets);
  node_jobs_completed_ =
      &prometheus::BuildCounter()
           .Name("reelfarm_node_jobs_completed_total")
           .Help("Jobs each node finished (accepted results).")
           .Register(*registry_);
}

CoordinatorMetrics::~CoordinatorMetrics() = default;

void CoordinatorMetrics::AddCollectable(
    std::shared_ptr<prometheus::Collectable> collectable) {
  std::lock_guard<std::mutex> lock(mu_);
  collectables_.push_back(std::move(collectable));
}

void CoordinatorMetrics::LeaseGranted(absl::Duration wait) {
  leases_granted_->Increment();
  lease_grant_seconds_->Observe(absl::ToDoubleSeconds(wait));
}

void CoordinatorMetrics::LeasesExpired(int count) {
  if (count > 0) leases_expired_->Increment(count);
}

void CoordinatorMetrics::JobCompleted(const std::string& node_id,
                                      double render_seconds) {
  node_jobs_completed_->Add({{"node", node_id}}).Increment();
  render_seconds_->Observe(render_seconds);
  throughput_->Completed(node_id);
}

std::vector<std::weak_ptr<prometheus::Collectable>>
CoordinatorMetrics::Collectables() const {
  std::vector<std::weak_ptr<prometheus::Collectable>> out = {registry_,
                                                             throughput_};
  std::lock_guard<std::mutex> lock(mu_);
  out.insert(out.end(), collectables_.begin(), collectables_.end());
  return out;
}

std::vector<prometheus::MetricFamily> CoordinatorMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  for (const std::weak_ptr<prometheus::Collectable>& c : Collectables()) {
    if (std::shared_ptr<prometheus::Collectable> alive = c.lock()) {
      for (prometheus::MetricFamily& f : alive->Collect()) {
        families.push_back(std::move(f));
      }
    }
  }
  return families;
}

std::string CoordinatorMetrics::Render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, Collect());
  return out.str();
}

}  // namespace reelfarm
