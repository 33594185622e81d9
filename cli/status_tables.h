#ifndef REELFARM_CLI_STATUS_TABLES_H_
#define REELFARM_CLI_STATUS_TABLES_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm::cli {

// Columns padded to their widest cell, numbers right-aligned; the last
// column is not padded. `right_aligned[i]` applies to column i.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows,
                        const std::vector<bool>& right_aligned);

// "just now", "45s ago", "12m ago", "3h ago", "2d ago"; "-" for no time.
std::string FormatAge(absl::Time then, absl::Time now);

// SWEEP STATE TOTAL DONE FAILED RUNNING SUBMITTED NAME, a row per sweep.
std::string SweepTable(const std::vector<v1::SweepStatus>& sweeps,
                       absl::Time now);

// NODE HOST LANES DEVICES LAST-SEEN QUARANTINED-UNTIL, a row per node.
std::string NodeTable(const std::vector<v1::Node>& nodes, absl::Time now);

// NODE LANE DEVICES JOB PROGRESS, a row per lane: what it renders and how
// far each of its devices is.
std::string LaneTable(const std::vector<v1::Node>& nodes);

}  // namespace reelfarm::cli

#endif  // REELFARM_CLI_STATUS_TABLES_H_
