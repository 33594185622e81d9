#ifndef REELFARM_COMMON_LOG_H_
#define REELFARM_COMMON_LOG_H_

#include <string>

#include "absl/strings/str_cat.h"

namespace reelfarm {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines on stderr: "2026-11-27T14:00:00.123Z W coordinator: message".
// Only levels at or above the threshold are printed (default kInfo).
void SetLogThreshold(LogLevel level);
void LogLine(LogLevel level, const std::string& message);

template <typename... Args>
void LogInfo(const Args&... args) {
  LogLine(LogLevel::kInfo, absl::StrCat(args...));
}
template <typename... Args>
void LogWarning(const Args&... args) {
  LogLine(LogLevel::kWarning, absl::StrCat(args...));
}
template <typename... Args>
void LogError(const Args&... args) {
  LogLine(LogLevel::kError, absl::StrCat(args...));
}
template <typename... Args>
void LogDebug(const Args&... args) {
  LogLine(LogLevel::kDebug, absl::StrCat(args...));
}

}  // namespace reelfarm

#endif  // REELFARM_COMMON_LOG_H_
