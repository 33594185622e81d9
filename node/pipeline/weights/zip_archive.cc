#include "node/pipeline/weights/zip_archive.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

#ifdef REELFARM_HAVE_ZLIB
#include <zlib.h>
#endif

namespace reelfarm::pipeline {
namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint64_t kEndSize = 22;
constexpr uint64_t kZip64EndSize = 56;
constexpr uint64_t kZip64LocatorSize = 20;
constexpr uint64_t kCentralHeaderSize = 46;
constexpr uint64_t kLocalHeaderSize = 30;
constexpr uint64_t kMaxCommentSize = 0xffff;
// DEFLATE cannot expand data more than about 1032:1; a member that claims
// more is corrupt, and trusting it would allocate without bound.
constexpr uint64_t kMaxDeflateRatio = 1032;

// Little-endian reads that fail instead of reading past the end.
class Bytes {
 public:
  explicit Bytes(absl::string_view b) : b_(b) {}
  uint64_t size() const { return b_.size(); }
  bool Has(uint64_t off, uint64_t n) const {
    return off <= b_.size() && n <= b_.size() - off;
  }
  uint64_t Le(uint64_t off, int n) const {  // caller checked Has(off, n)
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) {
      v = (v << 8) | static_cast<unsigned char>(b_[off + i]);
    }
    return v;
  }
  absl::string_view Sub(uint64_t off, uint64_t n) const {
    return b_.substr(off, n);
  }

 private:
  absl::string_view b_;
};

absl::Status Corrupt(const std::string& source, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": not a valid zip archive: ", what));
}

// Where the central directory lies, from the (zip64) end records.
struct Directory {
  uint64_t entries = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t limit = 0;  // the first byte after the room it may occupy
};

absl::StatusOr<Directory> FindDirectory(const Bytes& b,
                                        const std::string& source) {
  if (b.size() < kEndSize) return Corrupt(source, "too short for a zip file");
  // The end record sits before a comment of at most 64 KiB; scan back.
  uint64_t end = b.size();
  const uint64_t lowest = b.size() - kEndSize > kMaxCommentSize
                              ? b.size() - kEndSize - kMaxCommentSize
                              : 0;
  for (uint64_t p = b.size() - kEndSize + 1; p-- > lowest;) {
    if (b.Le(p, 4) == kEndSig && p + kEndSize + b.Le(p + 20, 2) <= b.size()) {
      end = p;
      break;
    }
  }
  if (end == b.size()) {
    return Corrupt(source, "no end-of-central-directory record");
  }
  Directory dir;
  const uint64_t disk = b.Le(end + 4, 2), cd_disk = b.Le(end + 6, 2);
  const uint64_t disk_entries = b.Le(end + 8, 2);
  dir.entries = b.Le(end + 10, 2);
  dir.size = b.Le(end + 12, 4);
  dir.offset = b.Le(end + 16, 4);
  dir.limit = end;
  const bool saturated = disk == 0xffff || cd_disk == 0xffff ||
                         disk_entries == 0xffff || dir.entries == 0xffff ||
                         dir.size == 0xffffffff || dir.offset == 0xffffffff;
  const bool has_locator = end >= kZip64LocatorSize &&
                           b.Le(end - kZip64LocatorSize, 4) == kZip64LocatorSig;
  if (has_locator) {
    const uint64_t loc = end - kZip64LocatorSize;
    const uint64_t rec = b.Le(loc + 8, 8);
    if (b.Le(loc + 4, 4) != 0 || b.Le(loc + 16, 4) > 1) {
      return Corrupt(source, "multi-disk (split) archives are unsupported");
    }
    if (rec > loc || loc - rec < kZip64EndSize ||
        b.Le(rec, 4) != kZip64EndSig) {
      return Corrupt(source, absl::StrCat("bad zip64 end record offset ", rec));
    }
    if (b.Le(rec + 16, 4) != 0 || b.Le(rec + 20, 4) != 0 ||
        b.Le(rec + 24, 8) != b.Le(rec + 32, 8)) {
      return Corrupt(source, "multi-disk (split) archives are unsupported");
    }
    dir.entries = b.Le(rec + 32, 8);
    dir.size = b.Le(rec + 40, 8);
    dir.offset = b.Le(rec + 48, 8);
    dir.limit = rec;
  } else if (saturated) {
    return Corrupt(source, "needs zip64 records but has none");
  } else if (disk != 0 || cd_disk != 0 || disk_entries != dir.entries) {
    return Corrupt(source, "multi-disk (split) archives are unsupported");
  }
  if (dir.offset > dir.limit || dir.size > dir.limit - dir.offset) {
    return Corrupt(
        source, absl::StrCat("central directory [", dir.offset, ", +", dir.size,
                             ") lies outside the file"));
  }
  if (dir.entries > dir.size / kCentralHeaderSize) {
    return Corrupt(source, absl::StrCat(dir.entries,
                                        " entries cannot fit a central "
                                        "directory of ",
                                        dir.size, " bytes"));
  }
  return dir;
}

// Applies a zip64 extended-information extra field: it carries, in this
// order, whichever of the sizes and the offset are saturated in the header.
bool ApplyZip64Extra(const Bytes& b, uint64_t extra, uint64_t extra_len,
                     uint64_t* size, uint64_t* csize, uint64_t* offset,
                     uint64_t* disk) {
  uint64_t p = extra;
  const uint64_t stop = extra + extra_len;
  while (p + 4 <= stop) {
    const uint64_t id = b.Le(p, 2), len = b.Le(p + 2, 2);
    if (len > stop - p - 4) return false;
    if (id == 0x0001) {
      uint64_t q = p + 4;
      const uint64_t q_end = q + len;
      for (uint64_t* field : {size, csize, offset}) {
        if (*field != 0xffffffff) continue;
        if (q + 8 > q_end) return false;
        *field = b.Le(q, 8);
        q += 8;
      }
      if (*disk == 0xffff) {
        if (q + 4 > q_end) return false;
        *disk = b.Le(q, 4);
      }
      return true;
    }
    p += 4 + len;
  }
  // No zip64 field: fine unless a value needed one.
  return *size != 0xffffffff && *csize != 0xffffffff && *offset != 0xffffffff &&
         *disk != 0xffff;
}

}  // namespace

FileMapping::FileMapping(FileMapping&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

FileMapping& FileMapping::operator=(FileMapping&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

FileMapping::~FileMapping() {
  if (data_ != nullptr) munmap(data_, size_);
}

absl::Status FileMapping::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoToStatus(err, absl::StrCat("stat ", path));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a regular file"));
  }
  void* data = nullptr;
  const size_t size = static_cast<size_t>(st.st_size);
  if (size > 0) {
    data = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  }
  const int err = errno;
  ::close(fd);
  if (data == MAP_FAILED)
    return ErrnoToStatus(err, absl::StrCat("mmap ", path));
  if (data_ != nullptr) munmap(data_, size_);
  data_ = data;
  size_ = size;
  return absl::OkStatus();
}

absl::StatusOr<ZipArchive> ZipArchive::Parse(absl::string_view bytes,
                                             std::string source) {
  const Bytes b(bytes);
  absl::StatusOr<Directory> dir = FindDirectory(b, source);
  if (!dir.ok()) return dir.status();
  ZipArchive zip;
  zip.bytes_ = bytes;
  zip.source_ = std::move(source);
  zip.entries_.reserve(dir->entries);
  const uint64_t cd_end = dir->offset + dir->size;
  uint64_t p = dir->offset;
  for (uint64_t i = 0; i < dir->entries; ++i) {
    const std::string where = absl::StrCat("central directory entry ", i);
    if (cd_end - p < kCentralHeaderSize || b.Le(p, 4) != kCentralHeaderSig) {
      return Corrupt(zip.source_, absl::StrCat(where, " at offset ", p,
                                               " has no valid header"));
    }
    const uint64_t flags = b.Le(p + 8, 2);
    const uint64_t method = b.Le(p + 10, 2);
    uint64_t csize = b.Le(p + 20, 4), size = b.Le(p + 24, 4);
    const uint64_t name_len = b.Le(p + 28, 2), extra_len = b.Le(p + 30, 2);
    const uint64_t comment_len = b.Le(p + 32, 2);
    uint64_t disk = b.Le(p + 34, 2), local = b.Le(p + 42, 4);
    if (name_len + extra_len + comment_len > cd_end - p - kCentralHeaderSize) {
      return Corrupt(zip.source_,
                     absl::StrCat(where, " overruns the central directory"));
    }
    ZipEntry e;
    e.name = std::string(b.Sub(p + kCentralHeaderSize, name_len));
    e.crc32 = static_cast<uint32_t>(b.Le(p + 16, 4));
    e.method = static_cast<uint16_t>(method);
    const std::string what = absl::StrCat("entry '", e.name, "'");
    if (!ApplyZip64Extra(b, p + kCentralHeaderSize + name_len, extra_len, &size,
                         &csize, &local, &disk)) {
      return Corrupt(zip.source_,
                     absl::StrCat(what, " has a bad zip64 extra field"));
    }
    p += kCentralHeaderSize + name_len + extra_len + comment_len;
    if (flags & 0x41) {
      return Corrupt(zip.source_, absl::StrCat(what, " is encrypted"));
    }
    if (method != 0 && method != 8) {
      return Corrupt(zip.source_,
                     absl::StrCat(what, " uses compression method ", method,
                                  " (only STORED and DEFLATE are supported)"));
    }
    if (disk != 0) {
      return Corrupt(zip.source_, absl::StrCat(what, " is on another disk"));
    }
    if (method == 0 && csize != size) {
      return Corrupt(zip.source_, absl::StrCat(what,
                                               " is STORED but its sizes "
                                               "differ (",
                                               csize, " vs ", size, ")"));
    }
    // The local header repeats the name; sizes there may be zero (torch
    // streams its records), so the central directory's are used.
    if (local > dir->offset || dir->offset - local < kLocalHeaderSize ||
        b.Le(local, 4) != kLocalHeaderSig) {
      return Corrupt(
          zip.source_,
          absl::StrCat(what, " has no local header at offset ", local));
    }
    const uint64_t local_name = b.Le(local + 26, 2);
    const uint64_t local_extra = b.Le(local + 28, 2);
    e.data_offset = local + kLocalHeaderSize + local_name + local_extra;
    if (e.data_offset > dir->offset || csize > dir->offset - e.data_offset) {
      return Corrupt(
          zip.source_,
          absl::StrCat(what, " data [", e.data_offset, ", +", csize,
                       ") overruns the central directory at ", dir->offset));
    }
    if (b.Sub(local + kLocalHeaderSize, local_name) != e.name) {
      return Corrupt(zip.source_,
                     absl::StrCat(what,
                                  " has a different name in its local "
                                  "header"));
    }
    e.compressed_size = csize;
    e.size = size;
    zip.entries_.push_back(std::move(e));
  }
  zip.by_name_.resize(zip.entries_.size());
  for (size_t i = 0; i < zip.by_name_.size(); ++i) zip.by_name_[i] = i;
  const auto& entries = zip.entries_;
  std::sort(zip.by_name_.begin(), zip.by_name_.end(), [&](size_t x, size_t y) {
    return entries[x].name < entries[y].name;
  });
  for (size_t i = 1; i < zip.by_name_.size(); ++i) {
    if (entries[zip.by_name_[i]].name == entries[zip.by_name_[i - 1]].name) {
      return Corrupt(zip.source_,
                     absl::StrCat("entry '", entries[zip.by_name_[i]].name,
                                  "' appears twice"));
    }
  }
  return zip;
}

const ZipEntry* ZipArchive::Find(absl::string_view name) const {
  auto it = std::lower_bound(
      by_name_.begin(), by_name_.end(), name,
      [&](size_t i, absl::string_view n) { return entries_[i].name < n; });
  if (it == by_name_.end() || entries_[*it].name != name) return nullptr;
  return &entries_[*it];
}

absl::StatusOr<absl::string_view> ZipArchive::Read(const ZipEntry& entry,
                                                   std::string* scratch) const {
  // Parse() checked that the data lies inside bytes_.
  const absl::string_view raw =
      bytes_.substr(entry.data_offset, entry.compressed_size);
  if (entry.method == 0) return raw;
  const std::string what = absl::StrCat("entry '", entry.name, "'");
#ifdef REELFARM_HAVE_ZLIB
  if (entry.size / kMaxDeflateRatio > entry.compressed_size + 1) {
    return Corrupt(source_,
                   absl::StrCat(what, " claims ", entry.size, " bytes from ",
                                entry.compressed_size, " compressed"));
  }
  try {
    scratch->assign(entry.size, '\0');
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(
        source_, ": ", what, ": cannot allocate ", entry.size, " bytes"));
  }
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
    return absl::InternalError("zlib inflateInit2 failed");
  }
  // zlib counts in uInt; feed and drain in chunks so > 4 GiB members work.
  constexpr uint64_t kChunk = 1u << 30;
  uint64_t in_pos = 0, out_pos = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (zs.avail_in == 0 && in_pos < raw.size()) {
      const uint64_t n = std::min<uint64_t>(kChunk, raw.size() - in_pos);
      zs.next_in =
          reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()) + in_pos);
      zs.avail_in = static_cast<uInt>(n);
      in_pos += n;
    }
    if (zs.avail_out == 0 && out_pos < scratch->size()) {
      const uint64_t n = std::min<uint64_t>(kChunk, scratch->size() - out_pos);
      zs.next_out = reinterpret_cast<Bytef*>(&(*scratch)[out_pos]);
      zs.avail_out = static_cast<uInt>(n);
      out_pos += n;
    }
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR && zs.avail_out == 0 && out_pos == scratch->size()) {
      break;  // more output than the entry declares
    }
  }
  const uint64_t produced = out_pos - zs.avail_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || produced != entry.size) {
    return Corrupt(source_, absl::StrCat(what, " does not inflate to its ",
                                         entry.size, " bytes"));
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (uint64_t off = 0; off < scratch->size(); off += kChunk) {
    const uint64_t n = std::min<uint64_t>(kChunk, scratch->size() - off);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(scratch->data() + off),
                static_cast<uInt>(n));
  }
  if (static_cast<uint32_t>(crc) != entry.crc32) {
    return Corrupt(source_, absl::StrCat(what, " fails its CRC-32 check"));
  }
  return absl::string_view(*scratch);
#else
  (void)scratch;
  return absl::UnimplementedError(
      absl::StrCat(source_, ": ", what,
                   " is DEFLATE-compressed and reelfarm was built without "
                   "zlib; re-save it with torch.save or as safetensors"));
#endif
}

}  // namespace reelfarm::pipeline
