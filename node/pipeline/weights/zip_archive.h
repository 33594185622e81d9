#ifndef REELFARM_NODE_PIPELINE_WEIGHTS_ZIP_ARCHIVE_H_
#define REELFARM_NODE_PIPELINE_WEIGHTS_ZIP_ARCHIVE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reelfarm::pipeline {

// A whole file mapped read-only; move-only. Weights files are large, so they
// are mapped rather than read.
class FileMapping {
 public:
  FileMapping() = default;
  FileMapping(FileMapping&& other) noexcept;
  FileMapping& operator=(FileMapping&& other) noexcept;
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;
  ~FileMapping();

  absl::Status Open(const std::string& path);
  absl::string_view bytes() const {
    return absl::string_view(static_cast<const char*>(data_), size_);
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// One member of a zip archive, as its central directory describes it after
// every offset and size was checked against the archive's bytes.
struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 = STORED, 8 = DEFLATE
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;         // uncompressed
  uint64_t data_offset = 0;  // first byte of the (compressed) data
};

// A minimal zip reader over bytes held in memory (usually a FileMapping):
// end-of-central-directory record, zip64 records, central directory, local
// headers. It reads what torch.save writes (STORED members, 64-byte aligned,
// sizes only in the central directory) and DEFLATE members (torch's writer
// can compress records) when built with zlib. Encrypted, split and otherwise
// compressed archives are rejected. Nothing in the file is trusted before it
// is checked, so a corrupt archive gives an error, never a crash.
class ZipArchive {
 public:
  // `bytes` must outlive the archive; `source` names the file in errors.
  static absl::StatusOr<ZipArchive> Parse(absl::string_view bytes,
                                          std::string source);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const std::string& source() const { return source_; }

  // The entry with exactly this name, or nullptr.
  const ZipEntry* Find(absl::string_view name) const;

  // The uncompressed contents of `entry` (one of entries()). STORED members
  // are views into the archive's bytes; DEFLATE members are inflated into
  // `*scratch`, which then backs the view.
  absl::StatusOr<absl::string_view> Read(const ZipEntry& entry,
                                         std::string* scratch) const;

 private:
  ZipArchive() = default;

  absl::string_view bytes_;
  std::string source_;
  std::vector<ZipEntry> entries_;  // central directory order
  std::vector<size_t> by_name_;    // indices into entries_, sorted by name
};

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_WEIGHTS_ZIP_ARCHIVE_H_
