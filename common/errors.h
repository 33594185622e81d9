#ifndef REELFARM_COMMON_ERRORS_H_
#define REELFARM_COMMON_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace reelfarm {

// An errno as a Status whose message reads "<context>: <strerror>".
absl::Status ErrnoToStatus(int err, absl::string_view context);

// Process exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;

// Bad input (a config, a flag, a missing file the user named) exits 2;
// everything else that fails exits 1.
int ExitCodeFor(const absl::Status& status);

}  // namespace reelfarm

#endif  // REELFARM_COMMON_ERRORS_H_
