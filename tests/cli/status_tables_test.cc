#include "cli/status_tables.h"

#include <gtest/gtest.h>

#include "absl/strings/str_split.h"
#include "rpc/proto_time.h"

namespace reelfarm::cli {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

TEST(StatusTablesTest, AgesAreShortAndHuman) {
  EXPECT_EQ(FormatAge(kNow - absl::Seconds(2), kNow), "just now");
  EXPECT_EQ(FormatAge(kNow - absl::Seconds(45), kNow), "45s ago");
  EXPECT_EQ(FormatAge(kNow - absl::Minutes(12), kNow), "12m ago");
  EXPECT_EQ(FormatAge(kNow - absl::Hours(5), kNow), "5h ago");
  EXPECT_EQ(FormatAge(kNow - absl::Hours(24 * 3), kNow), "3d ago");
  EXPECT_EQ(FormatAge(absl::UnixEpoch(), kNow), "-");
}

TEST(StatusTablesTest, SweepColumnsLineUp) {
  v1::SweepStatus a;
  a.set_id("sw-1");
  a.set_state(v1::SWEEP_STATE_RUNNING);
  a.mutable_counts()->set_total(1200);
  a.mutable_counts()->set_done(7);
  a.mutable_counts()->set_leased(4);
  a.mutable_spec()->set_name("fox sweep");
  *a.mutable_submitted() = ToProtoTimestamp(kNow - absl::Minutes(3));
  v1::SweepStatus b;
  b.set_id("sw-longer-id");
  b.set_state(v1::SWEEP_STATE_DONE);
  b.mutable_counts()->set_total(4);
  b.mutable_counts()->set_done(4);
  b.mutable_spec()->set_name("demo");
  *b.mutable_submitted() = ToProtoTimestamp(kNow - absl::Hours(30));
  const std::vector<std::string> lines =
      absl::StrSplit(SweepTable({a, b}, kNow), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "SWEEP         STATE    TOTAL  DONE  FAILED  RUNNING  SUBMITTED  "
            "NAME");
  EXPECT_EQ(lines[1],
            "sw-1          running   1200     7       0        4  3m ago     "
            "fox sweep");
  EXPECT_EQ(lines[2],
            "sw-longer-id  done         4     4       0        0  30h ago    "
            "demo");
}

TEST(StatusTablesTest, NodesShowDevicesAndQuarantine) {
  v1::Node n;
  n.set_id("gpu-1");
  n.set_host("ipv4:10.0.0.5:4321");
  n.set_lanes(2);
  n.add_devices()->set_name("cuda:0");
  n.add_devices()->set_name("cuda:1");
  *n.mutable_last_seen() = ToProtoTimestamp(kNow - absl::Seconds(10));
  *n.mutable_quarantined_until() = ToProtoTimestamp(kNow + absl::Minutes(4));
  v1::Node idle;
  idle.set_id("cpu-box");
  idle.set_lanes(1);
  *idle.mutable_last_seen() = ToProtoTimestamp(kNow - absl::Minutes(5));
  const std::vector<std::string> lines =
      absl::StrSplit(NodeTable({n, idle}, kNow), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("NODE     HOST                LANES  DEVICES", 0),
            0u)
      << lines[0];
  EXPECT_NE(lines[1].find("    2  cuda:0,cuda:1  10s ago"), std::string::npos)
      << lines[1];
  EXPECT_NE(lines[1].find("(4m left)"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("5m ago"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[2].substr(lines[2].size() - 1), "-") << lines[2];
}

TEST(StatusTablesTest, LanesShowTheirJobAndEachDevicesProgress) {
  v1::Node n;
  n.set_id("gpu-1");
  n.set_lanes(2);
  for (int lane = 0; lane < 2; ++lane) {
    v1::Lane* l = n.add_lane_layout();
    l->set_index(lane);
    l->add_devices("cuda:" + std::to_string(2 * lane));
    l->add_devices("cuda:" + std::to_string(2 * lane + 1));
  }
  v1::LaneActivity* a = n.add_activity();
  a->set_lane(1);
  a->set_job_id("3f2a");
  a->set_fraction(0.4);
  for (auto [device, fraction] :
       {std::pair<const char*, double>{"cuda:2", 0.5}, {"cuda:3", 0.4}}) {
    v1::DeviceProgress* d = a->add_devices();
    d->set_device(device);
    d->set_fraction(fraction);
  }
  v1::Node old;  // registered without a lane layout
  old.set_id("cpu-box");
  old.set_lanes(1);
  const std::vector<std::string> lines =
      absl::StrSplit(LaneTable({n, old}), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].rfind("NODE     LANE  DEVICES        JOB   PROGRESS", 0),
            0u)
      << lines[0];
  EXPECT_NE(lines[1].find("cuda:0,cuda:1  -     idle"), std::string::npos)
      << lines[1];
  EXPECT_NE(lines[2].find("3f2a  40% (cuda:2 50%, cuda:3 40%)"),
            std::string::npos)
      << lines[2];
  EXPECT_NE(lines[3].find("cpu-box"), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find("idle"), std::string::npos) << lines[3];
}

}  // namespace
}  // namespace reelfarm::cli
