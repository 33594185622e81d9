#include "cli/progress.h"

#include "absl/time/clock.h"
#include "common/errors.h"
#include "coordinator/manifest.h"

namespace reelfarm::cli {

void ProgressPrinter::Update(const v1::SweepStatus& sweep,
                             const v1::JobStatus* job) {
  if (job != nullptr && job->state() == v1::JOB_STATE_FAILED) {
    std::fprintf(out_, "job %s failed: %s\n", job->job().id().c_str(),
                 job->last_error().c_str());
  }
  const absl::Time now = absl::Now();
  if (now - last_ < every_) return;
  last_ = now;
  Print(sweep);
}

void ProgressPrinter::Finish(const v1::SweepStatus& sweep) {
  Print(sweep);
  std::fflush(out_);
}

void ProgressPrinter::Print(const v1::SweepStatus& sweep) {
  const v1::SweepCounts& c = sweep.counts();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start_);
  const uint64_t finished = c.done() + c.failed() + c.cancelled();
  const double rate = elapsed > 0 ? c.done() / elapsed : 0;
  const uint64_t left = c.total() - finished;
  std::fprintf(out_,
               "[%s] %llu/%llu done, %llu failed, %llu running, %.2f jobs/s",
               SweepStateName(sweep.state()).c_str(),
               static_cast<unsigned long long>(c.done()),
               static_cast<unsigned long long>(c.total()),
               static_cast<unsigned long long>(c.failed()),
               static_cast<unsigned long long>(c.leased()), rate);
  if (rate > 0 && left > 0) std::fprintf(out_, ", ETA %.0fs", left / rate);
  std::fprintf(out_, "\n");
  std::fflush(out_);
}

int ExitCodeForSweep(const v1::SweepStatus& sweep) {
  return sweep.state() == v1::SWEEP_STATE_DONE ? kExitOk : kExitFailure;
}

}  // namespace reelfarm::cli
