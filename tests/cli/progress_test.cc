// The progress printer on a fake clock, writing into memory: the rate and
// ETA arithmetic, the terminal's redrawn line and the plain periodic lines.

#include "cli/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_split.h"
#include "cli/throughput.h"

namespace reelfarm::cli {
namespace {

// A FILE* into memory; text() reads what was written so far.
class MemoryFile {
 public:
  MemoryFile() : file_(open_memstream(&data_, &size_)) {}
  ~MemoryFile() {
    std::fclose(file_);
    std::free(data_);
  }
  FILE* get() { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(data_, size_);
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  FILE* file_;
};

v1::SweepStatus Sweep(uint64_t total, uint64_t done, uint64_t failed,
                      uint64_t running,
                      v1::SweepState state = v1::SWEEP_STATE_RUNNING) {
  v1::SweepStatus s;
  s.set_id("sw-1");
  s.set_state(state);
  v1::SweepCounts* c = s.mutable_counts();
  c->set_total(total);
  c->set_done(done);
  c->set_failed(failed);
  c->set_leased(running);
  c->set_pending(total - done - failed - running);
  return s;
}

v1::JobStatus FailedJob(const std::string& id, const std::string& error) {
  v1::JobStatus j;
  j.mutable_job()->set_id(id);
  j.set_state(v1::JOB_STATE_FAILED);
  j.set_last_error(error);
  return j;
}

TEST(ThroughputMeterTest, RateOverTheWindowFollowsChanges) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  ThroughputMeter meter(absl::Seconds(30));
  EXPECT_FALSE(meter.JobsPerSecond().has_value());
  meter.Observe(t0, 0);
  meter.Observe(t0 + absl::Milliseconds(500), 3);
  EXPECT_FALSE(meter.JobsPerSecond().has_value()) << "under a second";
  meter.Observe(t0 + absl::Seconds(30), 30);
  EXPECT_DOUBLE_EQ(*meter.JobsPerSecond(), 1.0);
  // Then nothing finishes. The window starts at the last observation at or
  // before 30 s ago (here the one at 0.5 s)...
  meter.Observe(t0 + absl::Seconds(45), 30);
  EXPECT_DOUBLE_EQ(*meter.JobsPerSecond(), 27 / 44.5);
  // ...and once it has moved past the busy part, the rate is 0.
  meter.Observe(t0 + absl::Seconds(60), 30);
  meter.Observe(t0 + absl::Seconds(90), 30);
  EXPECT_DOUBLE_EQ(*meter.JobsPerSecond(), 0.0);
}

TEST(ThroughputMeterTest, ShortDurations) {
  EXPECT_EQ(ShortDuration(absl::Seconds(0)), "0s");
  EXPECT_EQ(ShortDuration(absl::Seconds(59.9)), "59s");
  EXPECT_EQ(ShortDuration(absl::Seconds(125)), "2m05s");
  EXPECT_EQ(ShortDuration(absl::Hours(3) + absl::Minutes(7)), "3h07m");
  EXPECT_EQ(ShortDuration(absl::Hours(52)), "2d04h");
  EXPECT_EQ(ShortDuration(-absl::Seconds(3)), "0s");
}

TEST(ProgressPrinterTest, PlainLinesEveryPeriodWithoutControlCharacters) {
  FakeClock clock;
  MemoryFile out;
  ProgressOptions options;
  options.terminal = false;
  options.print_every = absl::Seconds(10);
  options.clock = &clock;
  ProgressPrinter printer(out.get(), options);

  printer.Update(Sweep(20, 0, 0, 2), nullptr);  // the first status: shown
  clock.Advance(absl::Seconds(5));
  printer.Update(Sweep(20, 2, 0, 2), nullptr);  // within the period: not
  const v1::JobStatus failed = FailedJob("job-7", "out of memory\nat step 3");
  printer.Update(Sweep(20, 2, 1, 2), &failed);  // failures always
  clock.Advance(absl::Seconds(5));
  printer.Update(Sweep(20, 4, 1, 2), nullptr);  // 10 s: shown
  clock.Advance(absl::Seconds(10));
  printer.Tick();  // nothing new, but the period passed: shown
  clock.Advance(absl::Seconds(3));
  printer.Tick();  // not
  printer.Finish(Sweep(20, 19, 1, 0, v1::SWEEP_STATE_FAILED));

  const std::string text = out.text();
  EXPECT_EQ(text.find_first_of("\r\x1b"), std::string::npos) << text;
  const std::vector<std::string> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << text;
  EXPECT_EQ(lines[0],
            "[running] 0/20 done, 0 failed, 2 running, - jobs/s, elapsed 0s");
  EXPECT_EQ(lines[1], "job job-7 failed: out of memory at step 3");
  // 5 finished in 10 s: 0.5 jobs/s, 15 left: 30 s.
  EXPECT_EQ(lines[2],
            "[running] 4/20 done, 1 failed, 2 running, 0.50 jobs/s, ETA 30s, "
            "elapsed 10s");
  // Still 5 in 20 s: 0.25 jobs/s, 60 s left.
  EXPECT_EQ(lines[3],
            "[running] 4/20 done, 1 failed, 2 running, 0.25 jobs/s, ETA 1m00s, "
            "elapsed 20s");
  // Finished: no ETA.
  EXPECT_EQ(lines[4],
            "[failed] 19/20 done, 1 failed, 0 running, 0.87 jobs/s, elapsed "
            "23s");
}

TEST(ProgressPrinterTest, TerminalRedrawsOneLineInPlace) {
  FakeClock clock;
  MemoryFile out;
  ProgressOptions options;
  options.terminal = true;
  options.columns = 100;
  options.redraw_every = absl::Milliseconds(200);
  options.clock = &clock;
  ProgressPrinter printer(out.get(), options);

  printer.Update(Sweep(10, 0, 0, 1), nullptr);
  EXPECT_EQ(out.text(),
            "\r[--------------------] 0/10 done, 0 failed, 1 running, - "
            "jobs/s\x1b[K");
  clock.Advance(absl::Milliseconds(100));
  printer.Update(Sweep(10, 1, 0, 1), nullptr);  // too soon to redraw
  EXPECT_EQ(out.text().find('\n'), std::string::npos);
  const size_t before = out.text().size();
  clock.Advance(absl::Milliseconds(100));
  printer.Update(Sweep(10, 2, 0, 1), nullptr);
  std::string text = out.text().substr(before);
  EXPECT_EQ(text,
            "\r[####----------------] 2/10 done, 0 failed, 1 running, - "
            "jobs/s\x1b[K");

  // A failure: the bar is cleared, the failure gets its line, the bar comes
  // back under it at once. 3 finished in 1.2 s, 7 left: 2.8 s, shown
  // rounded up.
  clock.Advance(absl::Seconds(1));
  const size_t before_failure = out.text().size();
  const v1::JobStatus failed = FailedJob("job-3", "boom");
  printer.Update(Sweep(10, 2, 1, 1), &failed);
  text = out.text().substr(before_failure);
  EXPECT_EQ(text,
            "\r\x1b[Kjob job-3 failed: boom\n"
            "\r[######--------------] 2/10 done, 1 failed, 1 running, 2.50 "
            "jobs/s, ETA 3s\x1b[K");

  printer.Finish(Sweep(10, 9, 1, 0, v1::SWEEP_STATE_FAILED));
  text = out.text();
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_NE(text.find("\r[####################] 9/10 done"), std::string::npos)
      << text;
}

TEST(ProgressPrinterTest, TerminalLineIsCutToTheWidth) {
  FakeClock clock;
  MemoryFile out;
  ProgressOptions options;
  options.terminal = true;
  options.columns = 30;
  options.clock = &clock;
  ProgressPrinter printer(out.get(), options);
  printer.Update(Sweep(10, 0, 0, 1), nullptr);
  // 29 columns: the last one stays empty.
  EXPECT_EQ(out.text(), "\r[--------------------] 0/10 d\x1b[K");
}

}  // namespace
}  // namespace reelfarm::cli
