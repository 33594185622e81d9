#include "coordinator/manifest/output_verifier.h"

#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/atomic_file.h"
#include "common/sha256.h"

namespace reelfarm {
namespace fs = std::filesystem;
namespace {

// A recorded path must stay inside the output folder: relative, with no
// `..` or `.` parts. Records come from nodes, which are trusted only so far.
absl::Status CheckRelative(const std::string& path) {
  const fs::path p(path);
  if (path.empty() || p.is_absolute()) {
    return absl::DataLossError(absl::StrCat("unsafe output path '", path, "'"));
  }
  for (const fs::path& part : p) {
    if (part == ".." || part == "." || part.empty()) {
      return absl::DataLossError(
          absl::StrCat("unsafe output path '", path, "'"));
    }
  }
  return absl::OkStatus();
}

// The one folder all of a job's files are in ("<name>/frame.png" -> name).
absl::StatusOr<std::string> JobFolder(const v1::JobResult& result) {
  std::string folder;
  for (const v1::OutputFile& f : result.files()) {
    if (absl::Status st = CheckRelative(f.path()); !st.ok()) return st;
    const std::string top = fs::path(f.path()).begin()->string();
    if (top == f.path()) {
      return absl::FailedPreconditionError(
          absl::StrCat(f.path(), " is not in a job folder"));
    }
    if (!folder.empty() && top != folder) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", result.job_id(), " has files in two folders"));
    }
    folder = top;
  }
  if (folder.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", result.job_id(), " recorded no files"));
  }
  return folder;
}

}  // namespace

absl::Status FileOutputVerifier::Verify(const std::string& output_dir,
                                        const v1::JobResult& result) {
  for (const v1::OutputFile& f : result.files()) {
    if (absl::Status st = CheckRelative(f.path()); !st.ok()) return st;
    const std::string path = (fs::path(output_dir) / f.path()).string();
    std::error_code ec;
    const uintmax_t size = fs::file_size(path, ec);
    if (ec) {
      return absl::NotFoundError(absl::StrCat(path, ": ", ec.message()));
    }
    // The size is checked first: a truncated file needs no hashing.
    if (f.bytes() != 0 && size != f.bytes()) {
      return absl::DataLossError(absl::StrCat(path, " has ", size, " bytes; ",
                                              f.bytes(), " were recorded"));
    }
    absl::StatusOr<std::string> sha = Sha256FileHex(path);
    if (!sha.ok()) return sha.status();
    if (*sha != f.sha256()) {
      return absl::DataLossError(
          absl::StrCat(path, " does not match its recorded sha256"));
    }
  }
  return absl::OkStatus();
}

absl::Status FileOutputVerifier::Adopt(const std::string& from_dir,
                                       const std::string& to_dir,
                                       const v1::JobResult& result) {
  absl::StatusOr<std::string> folder = JobFolder(result);
  if (!folder.ok()) return folder.status();
  const fs::path final_dir = fs::path(to_dir) / *folder;
  std::error_code ec;
  if (fs::exists(final_dir, ec)) return Verify(to_dir, result);
  if (absl::Status st = Verify(from_dir, result); !st.ok()) return st;

  // Staged beside the outputs and renamed into place, like a render's.
  std::mt19937_64 rng(std::random_device{}());
  const fs::path staging = fs::path(to_dir) / ".staging" /
                           absl::StrCat("adopt-", ::getpid(), "-", rng());
  absl::Status st = MakeDirectories((staging / *folder).string());
  for (const v1::OutputFile& f : result.files()) {
    if (!st.ok()) break;
    const fs::path from = fs::path(from_dir) / f.path();
    const fs::path to = staging / f.path();
    st = MakeDirectories(to.parent_path().string());
    if (!st.ok()) break;
    fs::create_hard_link(from, to, ec);
    if (ec) {
      ec.clear();
      fs::copy_file(from, to, ec);
      if (ec) {
        st = absl::InternalError(absl::StrCat("copy ", from.string(), " to ",
                                              to.string(), ": ", ec.message()));
      }
    }
  }
  if (st.ok()) st = SyncDirectory((staging / *folder).string());
  if (st.ok() &&
      ::rename((staging / *folder).c_str(), final_dir.c_str()) != 0) {
    // Another publication got there first; its files stand if they verify.
    st = Verify(to_dir, result);
  }
  if (st.ok()) st = SyncDirectory(to_dir);
  fs::remove_all(staging, ec);
  return st;
}

absl::Status FileOutputVerifier::Discard(const std::string& output_dir,
                                         const v1::JobResult& result) {
  absl::StatusOr<std::string> folder = JobFolder(result);
  if (!folder.ok()) return folder.status();
  const fs::path from = fs::path(output_dir) / *folder;
  std::error_code ec;
  if (!fs::exists(from, ec)) return absl::OkStatus();
  const fs::path aside = fs::path(output_dir) / ".discarded";
  if (absl::Status st = MakeDirectories(aside.string()); !st.ok()) return st;
  const fs::path to =
      aside / absl::StrCat(*folder, ".", absl::ToUnixMillis(absl::Now()));
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("move ", from.string(), " to ",
                                            to.string(), ": ",
                                            std::strerror(errno)));
  }
  return SyncDirectory(output_dir);
}

}  // namespace reelfarm
