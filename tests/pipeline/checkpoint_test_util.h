#ifndef REELFARM_TESTS_PIPELINE_CHECKPOINT_TEST_UTIL_H_
#define REELFARM_TESTS_PIPELINE_CHECKPOINT_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace reelfarm::pipeline::testing {

// Assembles a zip archive in memory the way torch.save lays one out:
// STORED members (or DEFLATE ones when asked and zlib is available), sizes
// in the central directory, zip64 end records.
class ZipWriter {
 public:
  void Add(const std::string& name, absl::string_view data,
           bool deflate = false);
  // zip64_extras: saturate the 32-bit sizes and offsets and carry the real
  // ones in zip64 fields, as archives over 4 GiB must.
  std::string Finish(bool zip64_end = true, bool zip64_extras = false);

 private:
  struct Member {
    std::string name;
    uint16_t method;
    uint32_t crc;
    uint64_t size, csize, offset;
  };
  std::string out_;
  std::vector<Member> members_;
};

// Writes pickle opcodes by hand, so tests can say exactly what a file holds.
class PickleWriter {
 public:
  PickleWriter& Proto(int version = 2);
  PickleWriter& Op(char op);
  PickleWriter& Raw(absl::string_view bytes);
  PickleWriter& Str(absl::string_view s);  // BINUNICODE
  PickleWriter& Int(int64_t v);            // BININT or LONG1
  PickleWriter& Global(absl::string_view module, absl::string_view name);
  PickleWriter& StackGlobal(absl::string_view module, absl::string_view name);
  PickleWriter& Ints(const std::vector<int64_t>& v);  // a tuple
  // _rebuild_tensor_v2 of the storage data/<key> with this geometry.
  PickleWriter& Tensor(const std::string& storage_type, const std::string& key,
                       int64_t storage_numel, int64_t offset,
                       const std::vector<int64_t>& sizes,
                       const std::vector<int64_t>& strides);
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// A tensor entry for TorchZip(): name -> storage key and geometry.
struct TensorSpec {
  std::string name;
  std::string storage_type;  // "FloatStorage", "HalfStorage", ...
  std::string key;
  int64_t storage_numel;
  int64_t offset;
  std::vector<int64_t> sizes, strides;
};

// The body of a pickle that maps each spec's name to its tensor, between
// "}(" and "u"; wrap it as needed.
std::string TensorItems(const std::vector<TensorSpec>& specs);

// A torch.save-style archive "archive/..." holding `pickle` and `storages`
// (key -> bytes).
std::string TorchZip(
    absl::string_view pickle,
    const std::vector<std::pair<std::string, std::string>>& storages,
    bool deflate = false);

// Little-endian float32 bytes 0, 1, 2, ... n-1.
std::string FloatRange(int n);

// Writes bytes to a fresh file under the test's temp dir; returns its path.
std::string WriteTempFile(const std::string& name, absl::string_view bytes);

}  // namespace reelfarm::pipeline::testing

#endif  // REELFARM_TESTS_PIPELINE_CHECKPOINT_TEST_UTIL_H_
