#include "sweep/model_digest.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/sha256.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;

using CacheKey = std::tuple<std::string, int64_t, int64_t, int64_t>;

std::mutex& CacheMutex() {
  static std::mutex mu;
  return mu;
}
std::map<CacheKey, std::string>& Cache() {
  static auto* cache = new std::map<CacheKey, std::string>();
  return *cache;
}

absl::StatusOr<std::string> DigestFile(const std::string& path,
                                       const struct stat& st) {
  CacheKey key{path, static_cast<int64_t>(st.st_size),
               static_cast<int64_t>(st.st_mtim.tv_sec),
               static_cast<int64_t>(st.st_mtim.tv_nsec)};
  {
    std::lock_guard<std::mutex> lock(CacheMutex());
    auto it = Cache().find(key);
    if (it != Cache().end()) return it->second;
  }
  absl::StatusOr<std::string> hex = Sha256FileHex(path);
  if (!hex.ok()) return hex.status();
  std::lock_guard<std::mutex> lock(CacheMutex());
  Cache()[key] = *hex;
  return *hex;
}

absl::StatusOr<std::string> DigestFolder(const std::string& root) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      files.push_back(fs::relative(it->path(), root, ec).generic_string());
    }
  }
  if (ec) return ErrnoToStatus(ec.value(), absl::StrCat("list ", root));
  std::sort(files.begin(), files.end());
  Sha256 listing;
  for (const std::string& rel : files) {
    // Hidden files (editor swap files, .cache folders) do not change pixels.
    if (rel.front() == '.' || rel.find("/.") != std::string::npos) continue;
    const std::string full = (fs::path(root) / rel).string();
    struct stat st;
    if (::stat(full.c_str(), &st) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("stat ", full));
    }
    absl::StatusOr<std::string> hex = DigestFile(full, st);
    if (!hex.ok()) return hex.status();
    listing.Update(rel);
    listing.Update(absl::string_view("\0", 1));
    listing.Update(*hex);
    listing.Update("\n");
  }
  return listing.HexDigest();
}

}  // namespace

absl::StatusOr<std::string> DigestModelPath(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("model path ", path));
  }
  absl::StatusOr<std::string> hex =
      S_ISDIR(st.st_mode) ? DigestFolder(path) : DigestFile(path, st);
  if (!hex.ok()) return hex.status();
  return absl::StrCat("sha256:", *hex);
}

}  // namespace reelfarm
