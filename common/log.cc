#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace reelfarm {
namespace {
std::atomic<int> threshold{static_cast<int>(LogLevel::kInfo)};
}  // namespace

void SetLogThreshold(LogLevel level) {
  threshold.store(static_cast<int>(level));
}

void LogLine(LogLevel level, const std::string& message) {
  if (static_cast<int>(level) < threshold.load()) return;
  static constexpr char kLetters[] = "DIWE";
  static std::mutex mu;
  const std::string when = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                            absl::UTCTimeZone());
  std::lock_guard<std::mutex> lock(mu);
  std::fprintf(stderr, "%s %c %s\n", when.c_str(),
               kLetters[static_cast<int>(level)], message.c_str());
}

}  // namespace reelfarm
