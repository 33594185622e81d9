// The text exposition format, the registry's instruments, the HTTP answers
// and the coordinator's throughput gauge, without sockets.

#include "coordinator/metrics/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "coordinator/lease_queue/lease_queue.h"
#include "coordinator/metrics/coordinator_metrics.h"
#include "coordinator/metrics/metrics_http_server.h"
#include "coordinator/metrics/metrics_text.h"
#include "coordinator/state/state_store.h"
#include "tests/coordinator/test_specs.h"

namespace reelfarm {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(MetricsTextTest, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue(R"(a\b"c)"
                             "\nd"),
            R"(a\\b\"c\nd)");
  ExpositionWriter out;
  out.Sample("m", {{"sweep", "say \"hi\"\n"}, {"state", "done"}}, 3);
  EXPECT_EQ(out.text(), "m{sweep=\"say \\\"hi\\\"\\n\",state=\"done\"} 3\n");
}

TEST(MetricsTextTest, HelpEscapesBackslashAndNewlineButNotQuotes) {
  ExpositionWriter out;
  out.Family("m_total", "counter", "one\\two\n\"three\"");
  EXPECT_EQ(out.text(),
            "# HELP m_total one\\\\two\\n\"three\"\n# TYPE m_total counter\n");
}

TEST(MetricsTextTest, ValuesReadBackExactly) {
  EXPECT_EQ(FormatMetricValue(42), "42");
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(0.25), "0.25");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(std::stod(FormatMetricValue(1.0 / 3)), 1.0 / 3);
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()),
            "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
}

TEST(MetricsTextTest, HistogramBucketsAreCumulativeAndEndWithInf) {
  Histogram h("lat_seconds", "Latency.", {1, 0.125, 10});  // sorted on entry
  for (double v : {0.0625, 0.125, 0.5, 2.0, 2.0, 100.0}) h.Observe(v);
  ExpositionWriter out;
  h.Write(out);
  EXPECT_EQ(out.text(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{le=\"0.125\"} 2\n"  // le is inclusive
            "lat_seconds_bucket{le=\"1\"} 3\n"
            "lat_seconds_bucket{le=\"10\"} 5\n"
            "lat_seconds_bucket{le=\"+Inf\"} 6\n"
            "lat_seconds_sum 104.6875\n"
            "lat_seconds_count 6\n");
}

TEST(MetricsTextTest, HistogramKeepsItsLabelsBeforeLe) {
  HistogramSnapshot h;
  h.upper_bounds = {1};
  h.bucket_counts = {1, 1};
  h.sum = 3;
  h.count = 2;
  ExpositionWriter out;
  out.Histogram("x", {{"node", "n1"}}, h);
  EXPECT_TRUE(Contains(out.text(), "x_bucket{node=\"n1\",le=\"1\"} 1\n"));
  EXPECT_TRUE(Contains(out.text(), "x_bucket{node=\"n1\",le=\"+Inf\"} 2\n"));
  EXPECT_TRUE(Contains(out.text(), "x_count{node=\"n1\"} 2\n"));
}

TEST(MetricsRegistryTest, CountersAddUpPerLabelAndNeverGoDown) {
  MetricsRegistry registry;
  CounterFamily* plain = registry.AddCounter("a_total", "A.");
  CounterFamily* by_node = registry.AddCounter("b_total", "B.", {"node"});
  by_node->Add({"n2"});
  by_node->Add({"n1"}, 2);
  by_node->Add({"n2"});
  by_node->Add({"n2"}, -5);  // ignored
  EXPECT_EQ(by_node->Value({"n2"}), 2);
  const std::string text = registry.Render();
  EXPECT_TRUE(Contains(text, "# TYPE a_total counter\na_total 0\n")) << text;
  EXPECT_TRUE(Contains(text,
                       "# TYPE b_total counter\n"
                       "b_total{node=\"n1\"} 2\n"
                       "b_total{node=\"n2\"} 2\n"))
      << text;
  plain->Add({});
  EXPECT_TRUE(Contains(registry.Render(), "a_total 1\n"));
}

TEST(MetricsRegistryTest, CollectorsWriteAtScrapeTime) {
  MetricsRegistry registry;
  int value = 1;
  registry.AddCollector([&](ExpositionWriter& out) {
    out.Family("g", "gauge", "G.");
    out.Sample("g", {}, value);
  });
  EXPECT_TRUE(Contains(registry.Render(), "g 1\n"));
  value = 7;
  EXPECT_TRUE(Contains(registry.Render(), "g 7\n"));
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
  metrics.AttachLeaseQueue(&queue);
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
