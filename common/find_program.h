#ifndef REELFARM_COMMON_FIND_PROGRAM_H_
#define REELFARM_COMMON_FIND_PROGRAM_H_

#include <string>

#include "absl/status/statusor.h"

namespace reelfarm {

// The absolute path of an executable: the environment variable
// `override_env` when it is set and non-empty (it must name an executable
// file), else the first `name` on PATH. NotFound says what was looked at and
// how to fix it.
absl::StatusOr<std::string> FindProgram(const std::string& name,
                                        const std::string& override_env);

// The ffmpeg program, overridable with REELFARM_FFMPEG.
inline constexpr char kFfmpegEnv[] = "REELFARM_FFMPEG";
absl::StatusOr<std::string> FindFfmpeg();

}  // namespace reelfarm

#endif  // REELFARM_COMMON_FIND_PROGRAM_H_
