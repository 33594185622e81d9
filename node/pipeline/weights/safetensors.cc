#include "node/pipeline/weights/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "nlohmann/json.hpp"

namespace reelfarm::pipeline {
namespace {

// Real headers are a few MB at most; a larger one is a corrupt length.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

absl::Status Bad(const std::string& source, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": not a valid safetensors file: ", what));
}

struct DtypeInfo {
  const char* name;
  size_t bytes;
  torch::ScalarType type;
};

constexpr DtypeInfo kDtypes[] = {
    {"F32", 4, torch::kFloat32},   {"F16", 2, torch::kFloat16},
    {"BF16", 2, torch::kBFloat16}, {"F64", 8, torch::kFloat64},
    {"I64", 8, torch::kInt64},     {"I32", 4, torch::kInt32},
    {"I16", 2, torch::kInt16},     {"I8", 1, torch::kInt8},
    {"U8", 1, torch::kUInt8},      {"BOOL", 1, torch::kBool},
};

const DtypeInfo* FindDtype(const std::string& name) {
  for (const DtypeInfo& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

// A small RAII read-only mapping of a whole file.
class MappedFile {
 public:
  ~MappedFile() {
    if (data_ != nullptr && data_ != MAP_FAILED) munmap(data_, size_);
  }
  absl::Status Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
    struct stat st;
    if (fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoToStatus(err, absl::StrCat("stat ", path));
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      data_ = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    const int err = errno;
    ::close(fd);
    if (data_ == MAP_FAILED) {
      data_ = nullptr;
      return ErrnoToStatus(err, absl::StrCat("mmap ", path));
    }
    return absl::OkStatus();
  }
  absl::string_view bytes() const {
    return absl::string_view(static_cast<const char*>(data_), size_);
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

absl::StatusOr<SafetensorsIndex> ParseSafetensorsIndex(
    absl::string_view prefix, uint64_t total_size, const std::string& source) {
  if (prefix.size() < 8 || total_size < 8) {
    return Bad(source, "shorter than its 8-byte header length");
  }
  uint64_t header_len = 0;
  std::memcpy(&header_len, prefix.data(), 8);  // little-endian on our targets
  if (header_len > kMaxHeaderBytes || header_len > total_size - 8) {
    return Bad(source,
               absl::StrCat("header length ", header_len, " exceeds the file (",
                            total_size, " bytes)"));
  }
  if (prefix.size() < 8 + header_len) return Bad(source, "header truncated");
  const nlohmann::json header = nlohmann::json::parse(
      prefix.substr(8, header_len), nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    return Bad(source, "header is not a JSON object");
  }
  SafetensorsIndex index;
  index.data_offset = 8 + header_len;
  const uint64_t data_size = total_size - index.data_offset;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = absl::StrCat("tensor '", name, "'");
    if (!value.is_object() || !value.contains("dtype") ||
        !value.contains("shape") || !value.contains("data_offsets") ||
        !value["dtype"].is_string() || !value["shape"].is_array() ||
        !value["data_offsets"].is_array() ||
        value["data_offsets"].size() != 2) {
      return Bad(source, absl::StrCat(where,
                                      " lacks dtype, shape or "
                                      "data_offsets"));
    }
    SafetensorsEntry e;
    e.name = name;
    e.dtype = value["dtype"].get<std::string>();
    const DtypeInfo* dtype = FindDtype(e.dtype);
    if (dtype == nullptr) {
      return Bad(source,
                 absl::StrCat(where, " has unsupported dtype '", e.dtype, "'"));
    }
    uint64_t elements = 1;
    for (const auto& dim : value["shape"]) {
      if (!dim.is_number_unsigned()) {
        return Bad(source, absl::StrCat(where, " has a bad shape"));
      }
      const uint64_t d = dim.get<uint64_t>();
      if (d != 0 && elements > std::numeric_limits<uint64_t>::max() / 8 / d) {
        return Bad(source, absl::StrCat(where, " is impossibly large"));
      }
      elements *= d;
      e.shape.push_back(static_cast<int64_t>(d));
    }
    const auto& offsets = value["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
      return Bad(source, absl::StrCat(where, " has bad data_offsets"));
    }
    e.begin = offsets[0].get<uint64_t>();
    e.end = offsets[1].get<uint64_t>();
    if (e.begin > e.end || e.end > data_size) {
      return Bad(source, absl::StrCat(where, " data [", e.begin, ", ", e.end,
                                      ") lies outside the ", data_size,
                                      "-byte data section"));
    }
    if (e.end - e.begin != elements * dtype->bytes) {
      return Bad(source, absl::StrCat(where, " holds ", e.end - e.begin,
                                      " bytes but its shape needs ",
                                      elements * dtype->bytes));
    }
    index.entries.push_back(std::move(e));
  }
  std::sort(index.entries.begin(), index.entries.end(),
            [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
              return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
            });
  uint64_t cursor = 0;
  for (const SafetensorsEntry& e : index.entries) {
    if (e.begin < cursor) {
      return Bad(source, absl::StrCat("tensor '", e.name,
                                      "' overlaps the tensor before it"));
    }
    if (e.begin > cursor) {
      return Bad(source,
                 absl::StrCat("unused bytes before tensor '", e.name, "'"));
    }
    cursor = e.end;
  }
  if (cursor != data_size) {
    return Bad(source, absl::StrCat("data section has ", data_size - cursor,
                                    " bytes no tensor uses"));
  }
  return index;
}

absl::StatusOr<TensorMap> ParseSafetensors(absl::string_view bytes,
                                           const std::string& source) {
  absl::StatusOr<SafetensorsIndex> index =
      ParseSafetensorsIndex(bytes, bytes.size(), source);
  if (!index.ok()) return index.status();
  TensorMap out;
  for (const SafetensorsEntry& e : index->entries) {
    const DtypeInfo* dtype = FindDtype(e.dtype);
    // Copy into an aligned tensor of the stored type; floats then widen.
    torch::Tensor raw = torch::empty(e.shape, torch::dtype(dtype->type));
    if (e.end > e.begin) {
      std::memcpy(raw.data_ptr(), bytes.data() + index->data_offset + e.begin,
                  e.end - e.begin);
    }
    if (raw.is_floating_point()) raw = raw.to(torch::kFloat32);
    out.emplace(e.name, raw.contiguous());
  }
  return out;
}

absl::StatusOr<TensorMap> LoadSafetensors(const std::string& path) {
  MappedFile file;
  if (absl::Status st = file.Open(path); !st.ok()) return st;
  return ParseSafetensors(file.bytes(), path);
}

absl::Status WriteSafetensors(const std::string& path,
                              const TensorMap& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<torch::Tensor> data;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    torch::Tensor t = tensor.to(torch::kFloat32).contiguous().cpu();
    const uint64_t bytes = t.numel() * sizeof(float);
    header[name] = {{"dtype", "F32"},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(t);
  }
  std::string text = header.dump();
  // Pad the header so the data section starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    const uint64_t len = text.size();
    out.write(reinterpret_cast<const char*>(&len), 8);
    out.write(text.data(), text.size());
    for (const torch::Tensor& t : data) {
      out.write(static_cast<const char*>(t.data_ptr()),
                t.numel() * sizeof(float));
    }
    if (!out.good()) {
      return absl::InternalError(absl::StrCat("cannot write ", tmp));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("rename to ", path));
  }
  return absl::OkStatus();
}

}  // namespace reelfarm::pipeline
