#ifndef REELFARM_CLI_PROGRESS_H_
#define REELFARM_CLI_PROGRESS_H_

#include <cstdio>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm::cli {

// Prints a sweep's progress as it changes: at most one line per `every`,
// plus the final line. Plain lines suit terminals and batch logs alike.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(FILE* out, absl::Duration every = absl::Seconds(1))
      : out_(out), every_(every) {}
  void Update(const v1::SweepStatus& sweep, const v1::JobStatus* job);
  void Finish(const v1::SweepStatus& sweep);

 private:
  void Print(const v1::SweepStatus& sweep);

  FILE* out_;
  absl::Duration every_;
  absl::Time start_ = absl::Now();
  absl::Time last_ = absl::InfinitePast();
};

// 0 when every job is done, 1 otherwise.
int ExitCodeForSweep(const v1::SweepStatus& sweep);

}  // namespace reelfarm::cli

#endif  // REELFARM_CLI_PROGRESS_H_
