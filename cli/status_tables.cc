#include "cli/status_tables.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coordinator/manifest/manifest.h"

namespace reelfarm::cli {
namespace {

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

bool IsSet(const google::protobuf::Timestamp& t) {
  return t.seconds() != 0 || t.nanos() != 0;
}

}  // namespace

std::string FormatTable(const std::vector<std::vector<std::string>>& rows,
                        const std::vector<bool>& right_aligned) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += "  ";
      const size_t pad = widths[i] - row[i].size();
      const bool right = i < right_aligned.size() && right_aligned[i];
      if (right) line.append(pad, ' ');
      line += row[i];
      if (!right && i + 1 < row.size()) line.append(pad, ' ');
    }
    // Trailing blanks would only make copied output messier.
    line.erase(line.find_last_not_of(' ') + 1);
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string FormatAge(absl::Time then, absl::Time now) {
  if (then == absl::UnixEpoch() || then == absl::InfinitePast()) return "-";
  const int64_t s = std::max<int64_t>(absl::ToInt64Seconds(now - then), 0);
  if (s < 5) return "just now";
  if (s < 120) return absl::StrCat(s, "s ago");
  if (s < 2 * 3600) return absl::StrCat(s / 60, "m ago");
  if (s < 2 * 86400) return absl::StrCat(s / 3600, "h ago");
  return absl::StrCat(s / 86400, "d ago");
}

std::string SweepTable(const std::vector<v1::SweepStatus>& sweeps,
                       absl::Time now) {
  std::vector<std::vector<std::string>> rows = {{"SWEEP", "STATE", "TOTAL",
                                                 "DONE", "FAILED", "RUNNING",
                                                 "SUBMITTED", "NAME"}};
  for (const v1::SweepStatus& s : sweeps) {
    const v1::SweepCounts& c = s.counts();
    rows.push_back(
        {s.id(), SweepStateName(s.state()), absl::StrCat(c.total()),
         absl::StrCat(c.done()), absl::StrCat(c.failed()),
         absl::StrCat(c.leased()),
         IsSet(s.submitted()) ? FormatAge(FromProto(s.submitted()), now) : "-",
         s.spec().name()});
  }
  return FormatTable(rows,
                     {false, false, true, true, true, true, false, false});
}

std::string NodeTable(const std::vector<v1::Node>& nodes, absl::Time now) {
  std::vector<std::vector<std::string>> rows = {
      {"NODE", "HOST", "LANES", "DEVICES", "LAST SEEN", "QUARANTINED UNTIL"}};
  for (const v1::Node& n : nodes) {
    std::vector<std::string> devices;
    for (const v1::Device& d : n.devices()) devices.push_back(d.name());
    std::string quarantined = "-";
    if (IsSet(n.quarantined_until())) {
      const absl::Time until = FromProto(n.quarantined_until());
      quarantined = absl::StrCat(
          absl::FormatTime("%Y-%m-%d %H:%M:%S", until, absl::LocalTimeZone()),
          " (",
          absl::FormatDuration(absl::Trunc(until - now, absl::Seconds(1))),
          " left)");
    }
    rows.push_back(
        {n.id(), n.host().empty() ? "-" : n.host(), absl::StrCat(n.lanes()),
         devices.empty() ? "-" : absl::StrJoin(devices, ","),
         IsSet(n.last_seen()) ? FormatAge(FromProto(n.last_seen()), now) : "-",
         quarantined});
  }
  return FormatTable(rows, {false, false, true, false, false, false});
}

namespace {

std::string Percent(double fraction) {
  return absl::StrCat(static_cast<int>(fraction * 100 + 0.5), "%");
}

}  // namespace

std::string LaneTable(const std::vector<v1::Node>& nodes) {
  std::vector<std::vector<std::string>> rows = {
      {"NODE", "LANE", "DEVICES", "JOB", "PROGRESS"}};
  for (const v1::Node& n : nodes) {
    std::map<uint32_t, std::string> devices;  // by lane
    for (const v1::Lane& l : n.lane_layout()) {
      devices[l.index()] = absl::StrJoin(l.devices(), ",");
    }
    std::map<uint32_t, const v1::LaneActivity*> activity;
    for (const v1::LaneActivity& a : n.activity()) activity[a.lane()] = &a;
    for (uint32_t lane = 0; lane < n.lanes(); ++lane) {
      std::vector<std::string>& row = rows.emplace_back();
      row = {n.id(), absl::StrCat(lane),
             devices.count(lane) > 0 ? devices[lane] : "-", "-", "idle"};
      auto it = activity.find(lane);
      if (it == activity.end()) continue;
      const v1::LaneActivity& a = *it->second;
      row[3] = a.job_id().empty() ? "-" : a.job_id();
      row[4] = Percent(a.fraction());
      std::vector<std::string> per_device;
      for (const v1::DeviceProgress& d : a.devices()) {
        per_device.push_back(
            absl::StrCat(d.device(), " ", Percent(d.fraction())));
      }
      if (!per_device.empty()) {
        absl::StrAppend(&row[4], " (", absl::StrJoin(per_device, ", "), ")");
      }
    }
  }
  return FormatTable(rows, {false, true, false, false, false});
}

}  // namespace reelfarm::cli
