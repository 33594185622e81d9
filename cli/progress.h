#ifndef REELFARM_CLI_PROGRESS_H_
#define REELFARM_CLI_PROGRESS_H_

#include <cstdio>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "cli/throughput.h"
#include "common/clock.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm::cli {

struct ProgressOptions {
  // A terminal gets one line redrawn in place (\r) with a bar; anything else
  // (a pipe, a batch log) gets plain lines without control characters.
  bool terminal = false;
  int columns = 80;  // the terminal's width; the line is cut to fit
  absl::Duration redraw_every = absl::Milliseconds(200);  // terminal
  absl::Duration print_every = absl::Seconds(10);         // plain lines
  Clock* clock = nullptr;                                 // nullptr: real
};

// Options for writing to `out`: terminal mode when it is one (isatty), with
// its width.
ProgressOptions ProgressOptionsFor(FILE* out);

// Shows a sweep's progress: done, failed and running counts, throughput
// (see ThroughputMeter) and the time left at that rate. Failed jobs are
// printed as lines of their own as they happen. Thread-safe: Tick may come
// from a timer thread while Update comes from the watch.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(FILE* out)
      : ProgressPrinter(out, ProgressOptionsFor(out)) {}
  ProgressPrinter(FILE* out, ProgressOptions options);

  // A new status, and the job that just finished, if any.
  void Update(const v1::SweepStatus& sweep, const v1::JobStatus* job);
  // Shows the time passing when no job finishes: the throughput and ETA
  // move, and plain output keeps its period.
  void Tick();
  // The final line (ending the terminal's line).
  void Finish(const v1::SweepStatus& sweep);

 private:
  void ObserveLocked(const v1::SweepStatus& sweep, absl::Time now);
  void ShowLocked(absl::Time now, bool force);
  std::string TextLocked(absl::Time now) const;

  FILE* const out_;
  ProgressOptions options_;
  std::mutex mu_;
  ThroughputMeter meter_;
  bool seen_ = false;  // a status has arrived
  v1::SweepState state_ = v1::SWEEP_STATE_UNSPECIFIED;
  v1::SweepCounts counts_;
  absl::Time start_;
  absl::Time last_shown_ = absl::InfinitePast();
  bool line_open_ = false;  // terminal: the bar is on screen, unterminated
  std::string last_line_;   // plain mode: the last line printed
};

// 0 when every job is done, 1 otherwise.
int ExitCodeForSweep(const v1::SweepStatus& sweep);

}  // namespace reelfarm::cli

#endif  // REELFARM_CLI_PROGRESS_H_
