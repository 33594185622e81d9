// The coordinator's metrics as prometheus-cpp writes them: counters,
// histograms, the throughput gauge on the injected clock, the lease queue's
// gauges and escaping, and the HTTP answers, without sockets.

#include <gtest/gtest.h>

#include <memory>

#include "coordinator/lease_queue/lease_queue.h"
#include "coordinator/lease_queue_gauges.h"
#include "coordinator/metrics/coordinator_metrics.h"
#include "coordinator/metrics/metrics_http_server.h"
#include "coordinator/state/state_store.h"
#include "tests/coordinator/test_specs.h"

namespace reelfarm {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(CoordinatorMetricsTest, DevicesOfBusyLanesShowTheirProgress) {
  FakeClock clock;
  MemoryStateStore store;
  LeaseQueue queue(&store, &clock);
  ASSERT_TRUE(queue.Recover().ok());
  v1::Node node;
  node.set_id("gpu-1");
  node.set_lanes(1);
  v1::Lane* lane = node.add_lane_layout();
  lane->add_devices("cuda:0");
  lane->add_devices("cuda:1");
  queue.RegisterNode(node);
  ASSERT_TRUE(queue.Submit(testing_specs::GridSpec(1, 1, "/out")).ok());
  auto lease = queue.Acquire("gpu-1", 0);
  ASSERT_TRUE(lease.ok() && lease->has_value());
  v1::LeaseProgress p;
  p.set_lease_id((*lease)->id());
  p.set_fraction(0.25);
  for (auto [device, fraction] :
       {std::pair<const char*, double>{"cuda:0", 0.5}, {"cuda:1", 0.25}}) {
    v1::DeviceProgress* d = p.add_devices();
    d->set_device(device);
    d->set_fraction(fraction);
  }
  ASSERT_TRUE(queue.HeartbeatWithProgress("gpu-1", {p}).empty());
  CoordinatorMetrics metrics(&clock);
  metrics.AddCollectable(LeaseQueueGauges(&queue));
  const std::string text = metrics.Render();
  EXPECT_TRUE(Contains(text,
                       "reelfarm_device_progress{node=\"gpu-1\",lane=\"0\","
                       "rank=\"1\",device=\"cuda:1\"} 0.25\n"))
      << text;
  EXPECT_TRUE(Contains(text, "rank=\"0\",device=\"cuda:0\"} 0.5\n"));
}

TEST(CoordinatorMetricsTest, NodeThroughputCoversTheLastMinute) {
  FakeClock clock;
  CoordinatorMetrics metrics(&clock);
  for (int i = 0; i < 6; ++i) metrics.JobCompleted("n1", 2.0);
  clock.Advance(absl::Seconds(40));
  for (int i = 0; i < 3; ++i) metrics.JobCompleted("n1", 2.0);
  std::string text = metrics.Render();
  EXPECT_TRUE(
      Contains(text, "reelfarm_node_jobs_per_second{node=\"n1\"} 0.15\n"))
      << text;  // 9 jobs / 60 s
  EXPECT_TRUE(
      Contains(text, "reelfarm_node_jobs_completed_total{node=\"n1\"} 9\n"));
  EXPECT_TRUE(Contains(text, "reelfarm_render_seconds_count 9\n"));
  EXPECT_TRUE(Contains(text, "reelfarm_render_seconds_sum 18\n"));
  clock.Advance(absl::Seconds(30));  // the first six fall out of the window
  text = metrics.Render();
  EXPECT_TRUE(
      Contains(text, "reelfarm_node_jobs_per_second{node=\"n1\"} 0.05\n"))
      << text;
  clock.Advance(absl::Minutes(5));
  EXPECT_TRUE(Contains(metrics.Render(),
                       "reelfarm_node_jobs_per_second{node=\"n1\"} 0\n"));
}

TEST(CoordinatorMetricsTest, LeaseGrantsAndExpiriesAreCounted) {
  FakeClock clock;
  CoordinatorMetrics metrics(&clock);
  metrics.LeaseGranted(absl::Milliseconds(2));
  metrics.LeaseGranted(absl::Seconds(3));
  metrics.LeasesExpired(2);
  metrics.LeasesExpired(0);
  const std::string text = metrics.Render();
  EXPECT_TRUE(Contains(text, "reelfarm_leases_granted_total 2\n")) << text;
  EXPECT_TRUE(Contains(text, "reelfarm_leases_expired_total 2\n")) << text;
  EXPECT_TRUE(
      Contains(text, "reelfarm_lease_grant_seconds_bucket{le=\"0.005\"} 1\n"));
  EXPECT_TRUE(
      Contains(text, "reelfarm_lease_grant_seconds_bucket{le=\"5\"} 2\n"));
  EXPECT_TRUE(Contains(text, "reelfarm_lease_grant_seconds_count 2\n"));
}

TEST(CoordinatorMetricsTest, LabelValuesComeOutEscaped) {
  FakeClock clock;
  CoordinatorMetrics metrics(&clock);
  metrics.JobCompleted("say \"hi\"\\\n", 1.0);
  const std::string text = metrics.Render();
  EXPECT_TRUE(Contains(text,
                       "reelfarm_node_jobs_completed_total{node=\"say "
                       "\\\"hi\\\"\\\\\\n\"} 1\n"))
      << text;
}

TEST(CoordinatorMetricsTest, CollectablesAreReadAtScrapeTime) {
  FakeClock clock;
  CoordinatorMetrics metrics(&clock);
  struct Counted : prometheus::Collectable {
    std::vector<prometheus::MetricFamily> Collect() const override {
      prometheus::MetricFamily f = GaugeFamily("g", "G.");
      AddGauge(f, {}, ++calls);
      return {f};
    }
    mutable int calls = 0;
  };
  metrics.AddCollectable(std::make_shared<Counted>());
  EXPECT_TRUE(Contains(metrics.Render(), "# TYPE g gauge\ng 1\n"));
  EXPECT_TRUE(Contains(metrics.Render(), "\ng 2\n"));
}

std::string Answer(const std::string& request) {
  return MetricsHttpResponse(request, [] { return std::string("m 1\n"); });
}

TEST(MetricsHttpTest, GetMetricsIsTheOnlyPage) {
  const std::string ok = Answer("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_TRUE(Contains(
      ok, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  EXPECT_TRUE(Contains(ok, "Content-Length: 4\r\n"));
  EXPECT_TRUE(Contains(ok, "Connection: close\r\n"));
  EXPECT_EQ(ok.substr(ok.size() - 8), "\r\n\r\nm 1\n");
  EXPECT_EQ(
      Answer("GET /metrics?x=1 HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(Answer("GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(Answer("GET /metricsx HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0),
            0u);
  EXPECT_EQ(Answer("POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0),
            0u);
  EXPECT_EQ(Answer("\x16\x03\x01garbage\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(Answer("GET /metrics SPDY/3\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(Answer("GET /metrics HTTP/1.1\r\n" +
                   std::string(MetricsHttpServer::kMaxRequestBytes, 'x'))
                .rfind("HTTP/1.1 431", 0),
            0u);
}

}  // namespace
}  // namespace reelfarm
