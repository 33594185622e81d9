#include "cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errors.h"
#include "coordinator/manifest/manifest.h"

namespace reelfarm::cli {
namespace {

constexpr int kBarWidth = 20;
// Erases from the cursor to the end of the line.
constexpr char kClearToEnd[] = "\x1b[K";

uint64_t Finished(const v1::SweepCounts& c) { return c.done() + c.failed(); }

// Error text on one line: a multi-line error would break the redraw.
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace

ProgressOptions ProgressOptionsFor(FILE* out) {
  ProgressOptions options;
  const int fd = fileno(out);
  options.terminal = fd >= 0 && isatty(fd);
  winsize size{};
  if (options.terminal && ioctl(fd, TIOCGWINSZ, &size) == 0 &&
      size.ws_col > 0) {
    options.columns = size.ws_col;
  }
  return options;
}

ProgressPrinter::ProgressPrinter(FILE* out, ProgressOptions options)
    : out_(out), options_(options) {
  if (options_.clock == nullptr) options_.clock = Clock::Real();
  start_ = options_.clock->Now();
}

void ProgressPrinter::Update(const v1::SweepStatus& sweep,
                             const v1::JobStatus* job) {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = options_.clock->Now();
  ObserveLocked(sweep, now);
  if (job != nullptr && job->state() == v1::JOB_STATE_FAILED) {
    if (line_open_) std::fprintf(out_, "\r%s", kClearToEnd);
    line_open_ = false;
    std::fprintf(out_, "job %s failed: %s\n", job->job().id().c_str(),
                 OneLine(job->last_error()).c_str());
    // The bar goes back under the failure at once.
    ShowLocked(now, /*force=*/options_.terminal);
    return;
  }
  ShowLocked(now, /*force=*/false);
}

void ProgressPrinter::Tick() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!seen_) return;
  const absl::Time now = options_.clock->Now();
  meter_.Observe(now, Finished(counts_));
  ShowLocked(now, /*force=*/false);
}

void ProgressPrinter::Finish(const v1::SweepStatus& sweep) {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = options_.clock->Now();
  ObserveLocked(sweep, now);
  ShowLocked(now, /*force=*/true);
  if (line_open_) std::fputc('\n', out_);
  line_open_ = false;
  std::fflush(out_);
}

void ProgressPrinter::ObserveLocked(const v1::SweepStatus& sweep,
                                    absl::Time now) {
  seen_ = true;
  state_ = sweep.state();
  counts_ = sweep.counts();
  meter_.Observe(now, Finished(counts_));
}

void ProgressPrinter::ShowLocked(absl::Time now, bool force) {
  const absl::Duration every =
      options_.terminal ? options_.redraw_every : options_.print_every;
  if (!force && now - last_shown_ < every) return;
  last_shown_ = now;
  std::string text = TextLocked(now);
  if (options_.terminal) {
    // One column short of the width: writing the last column wraps on
    // some terminals, and the next \r would then redraw the wrong line.
    const size_t fit = static_cast<size_t>(std::max(options_.columns - 1, 1));
    if (text.size() > fit) text.resize(fit);
    std::fprintf(out_, "\r%s%s", text.c_str(), kClearToEnd);
    line_open_ = true;
  } else {
    // The closing line often repeats the one the last job's event printed.
    if (text == last_line_) return;
    std::fprintf(out_, "%s\n", text.c_str());
    last_line_ = text;
  }
  std::fflush(out_);
}

std::string ProgressPrinter::TextLocked(absl::Time now) const {
  const v1::SweepCounts& c = counts_;
  const uint64_t finished = Finished(c) + c.cancelled();
  const uint64_t left = c.total() > finished ? c.total() - finished : 0;
  const std::optional<double> rate = meter_.JobsPerSecond();
  std::string text;
  if (options_.terminal) {
    const int filled = c.total() == 0
                           ? kBarWidth
                           : static_cast<int>(finished * kBarWidth / c.total());
    absl::StrAppend(&text, "[", std::string(filled, '#'),
                    std::string(kBarWidth - filled, '-'), "] ");
  } else {
    absl::StrAppend(&text, "[", SweepStateName(state_), "] ");
  }
  absl::StrAppend(&text, c.done(), "/", c.total(), " done, ", c.failed(),
                  " failed, ", c.leased(), " running, ");
  if (rate.has_value()) {
    absl::StrAppend(&text, absl::StrFormat("%.2f jobs/s", *rate));
  } else {
    absl::StrAppend(&text, "- jobs/s");
  }
  if (left > 0 && rate.has_value() && *rate > 0) {
    // Rounded up: "ETA 0s" while work is left would be wrong.
    absl::StrAppend(&text, ", ETA ",
                    ShortDuration(absl::Ceil(absl::Seconds(left / *rate),
                                             absl::Seconds(1))));
  }
  if (!options_.terminal) {
    absl::StrAppend(&text, ", elapsed ", ShortDuration(now - start_));
  }
  return text;
}

int ExitCodeForSweep(const v1::SweepStatus& sweep) {
  return sweep.state() == v1::SWEEP_STATE_DONE ? kExitOk : kExitFailure;
}

}  // namespace reelfarm::cli
