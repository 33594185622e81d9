#ifndef REELFARM_COMMON_CLOCK_H_
#define REELFARM_COMMON_CLOCK_H_

#include <mutex>

#include "absl/time/time.h"

namespace reelfarm {

// Time as the coordinator sees it. Lease expiry reads this, so tests move
// time forward instead of sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The process-wide wall clock.
  static Clock* Real();
};

// A clock that moves only when told to.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000))
      : now_(start) {}
  absl::Time Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  absl::Time now_;
};

}  // namespace reelfarm

#endif  // REELFARM_COMMON_CLOCK_H_
