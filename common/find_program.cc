#include "common/find_program.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace reelfarm {
namespace {

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

absl::StatusOr<std::string> FindProgram(const std::string& name,
                                        const std::string& override_env) {
  const char* forced = std::getenv(override_env.c_str());
  if (forced != nullptr && *forced != '\0') {
    if (IsExecutableFile(forced)) return std::string(forced);
    return absl::NotFoundError(
        absl::StrCat(override_env, "=", forced, " is not an executable file"));
  }
  const char* path = std::getenv("PATH");
  if (path != nullptr) {
    for (absl::string_view dir : absl::StrSplit(path, ':')) {
      // An empty PATH entry is the working directory, as for execvp.
      std::string candidate = dir.empty() ? name : absl::StrCat(dir, "/", name);
      if (IsExecutableFile(candidate)) {
        if (candidate[0] == '/') return candidate;
        char cwd[4096];
        if (::getcwd(cwd, sizeof(cwd)) != nullptr) {
          return absl::StrCat(cwd, "/", candidate);
        }
      }
    }
  }
  return absl::NotFoundError(absl::StrCat(
      "the ", name, " program is not on PATH (", path ? path : "unset",
      "); install it or set ", override_env, " to its path"));
}

absl::StatusOr<std::string> FindFfmpeg() {
  absl::StatusOr<std::string> found = FindProgram("ffmpeg", kFfmpegEnv);
  if (!found.ok()) {
    return absl::NotFoundError(absl::StrCat(
        found.status().message(), " (Debian/Ubuntu: apt-get install ffmpeg)"));
  }
  return found;
}

}  // namespace reelfarm
