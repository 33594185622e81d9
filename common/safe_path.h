#ifndef REELFARM_COMMON_SAFE_PATH_H_
#define REELFARM_COMMON_SAFE_PATH_H_

#include <cstddef>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reelfarm {

// File and folder names made from user text (prompts, sweep names) must stay
// inside the output folder and be valid on every filesystem an output folder
// may be copied to (ext4, NTFS, SMB shares, macOS).

// The most bytes a derived name may have; filesystems allow 255.
inline constexpr size_t kMaxComponentBytes = 255;

// True when `name` is one plain path component that is safe everywhere:
// 1..255 bytes of valid UTF-8; no '/', '\\', NUL, control characters (C0,
// DEL, C1) or bidirectional overrides; not "." or ".."; no leading '.' or
// '-'; no trailing '.' or ' '; and not a Windows device name (CON, PRN, AUX,
// NUL, COM1-9, LPT1-9, with or without an extension, in any case).
bool IsSafePathComponent(absl::string_view name);

// Turns arbitrary text into a name IsSafePathComponent accepts: runs of
// characters outside letters, digits and "_-.+=@, " (and any invalid UTF-8)
// become one '-'; leading dots and dashes and trailing dots and spaces go; the
// result is cut to `max_bytes` (at most kMaxComponentBytes) without splitting
// a UTF-8 sequence; a device name gets a leading '_'. Empty results become
// `fallback`, which must itself be safe.
std::string SafePathComponent(absl::string_view text, size_t max_bytes,
                              absl::string_view fallback);

// True for an absolute path with no ".." component, NUL byte or control
// character: a folder named by a client that says plainly where it is.
bool IsPlainAbsolutePath(absl::string_view path);

// `root / name`, lexically normalized, after checking that `name` is a safe
// component and that the result lies strictly inside `root` (which must be
// absolute). The last guard before anything is written under a name that
// came over the network.
absl::StatusOr<std::filesystem::path> PathInside(
    const std::filesystem::path& root, absl::string_view name);

}  // namespace reelfarm

#endif  // REELFARM_COMMON_SAFE_PATH_H_
