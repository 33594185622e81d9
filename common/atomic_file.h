#ifndef REELFARM_COMMON_ATOMIC_FILE_H_
#define REELFARM_COMMON_ATOMIC_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace reelfarm {

// Writes `content` to a temporary file beside `path`, fsyncs it, renames it
// over `path` and fsyncs the folder: readers see the old file or the new one,
// never a half-written one, and a crash after return keeps the new one.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view content);

// Writes `content` to `path` (which must not exist) and fsyncs it.
absl::Status WriteFileDurably(const std::string& path,
                              absl::string_view content);

// fsync on a file another program wrote (e.g. an encoder's output).
absl::Status SyncFile(const std::string& path);

// fsync on a folder, so a rename or create inside it is durable.
absl::Status SyncDirectory(const std::string& dir);

// mkdir -p with a Status that names the folder.
absl::Status MakeDirectories(const std::string& dir);

}  // namespace reelfarm

#endif  // REELFARM_COMMON_ATOMIC_FILE_H_
