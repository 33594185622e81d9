#include "tests/pipeline/checkpoint_test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"

#ifdef REELFARM_TEST_ZLIB
#include <zlib.h>
#endif

namespace reelfarm::pipeline::testing {
namespace {

void Le(std::string* out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint32_t Crc32(absl::string_view data) {
  uint32_t crc = 0xffffffffu;
  for (char c : data) {
    crc ^= static_cast<uint8_t>(c);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
  }
  return ~crc;
}

}  // namespace

void ZipWriter::Add(const std::string& name, absl::string_view data,
                    bool compress) {
  Member m{name, 0, Crc32(data), data.size(), data.size(), out_.size()};
  std::string payload(data);
#ifdef REELFARM_TEST_ZLIB
  if (compress) {
    z_stream zs{};
    EXPECT_EQ(
        deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
        Z_OK);
    payload.resize(deflateBound(&zs, data.size()));
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = data.size();
    zs.next_out = reinterpret_cast<Bytef*>(payload.data());
    zs.avail_out = payload.size();
    EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    payload.resize(zs.total_out);
    deflateEnd(&zs);
    m.method = 8;
    m.csize = payload.size();
  }
#else
  EXPECT_FALSE(compress) << "built without zlib";
#endif
  Le(&out_, 0x04034b50, 4);
  Le(&out_, 45, 2);
  Le(&out_, 0x0808, 2);  // sizes follow the data, UTF-8 names (as torch)
  Le(&out_, m.method, 2);
  Le(&out_, 0, 4);      // time, date
  Le(&out_, 0, 4 * 3);  // crc and sizes left zero, as torch streams them
  Le(&out_, name.size(), 2);
  Le(&out_, 0, 2);
  out_ += name;
  out_ += payload;
  // Data descriptor: signature, crc, sizes.
  Le(&out_, 0x08074b50, 4);
  Le(&out_, m.crc, 4);
  Le(&out_, m.csize, 4);
  Le(&out_, m.size, 4);
  members_.push_back(m);
}

std::string ZipWriter::Finish(bool zip64_end, bool zip64_extras) {
  const uint64_t cd_offset = out_.size();
  const uint64_t sat = zip64_extras ? 0xffffffff : 0;
  for (const Member& m : members_) {
    Le(&out_, 0x02014b50, 4);
    Le(&out_, 0x031e, 2);
    Le(&out_, 45, 2);
    Le(&out_, 0x0808, 2);
    Le(&out_, m.method, 2);
    Le(&out_, 0, 4);
    Le(&out_, m.crc, 4);
    Le(&out_, sat | m.csize, 4);
    Le(&out_, sat | m.size, 4);
    Le(&out_, m.name.size(), 2);
    Le(&out_, zip64_extras ? 28 : 0, 2);
    Le(&out_, 0, 2 * 3);  // comment, disk, internal attributes
    Le(&out_, 0, 4);      // external attributes
    Le(&out_, sat | m.offset, 4);
    out_ += m.name;
    if (zip64_extras) {
      Le(&out_, 0x0001, 2);
      Le(&out_, 24, 2);
      Le(&out_, m.size, 8);
      Le(&out_, m.csize, 8);
      Le(&out_, m.offset, 8);
    }
  }
  const uint64_t cd_size = out_.size() - cd_offset;
  if (zip64_end) {
    const uint64_t rec = out_.size();
    Le(&out_, 0x06064b50, 4);
    Le(&out_, 44, 8);
    Le(&out_, 0x031e, 2);
    Le(&out_, 45, 2);
    Le(&out_, 0, 8);  // disk numbers
    Le(&out_, members_.size(), 8);
    Le(&out_, members_.size(), 8);
    Le(&out_, cd_size, 8);
    Le(&out_, cd_offset, 8);
    Le(&out_, 0x07064b50, 4);
    Le(&out_, 0, 4);
    Le(&out_, rec, 8);
    Le(&out_, 1, 4);
  }
  Le(&out_, 0x06054b50, 4);
  Le(&out_, 0, 4);
  Le(&out_, zip64_extras ? 0xffff : members_.size(), 2);
  Le(&out_, zip64_extras ? 0xffff : members_.size(), 2);
  Le(&out_, sat | cd_size, 4);
  Le(&out_, sat | cd_offset, 4);
  Le(&out_, 0, 2);
  return out_;
}

PickleWriter& PickleWriter::Proto(int version) {
  bytes_ += '\x80';
  bytes_ += static_cast<char>(version);
  return *this;
}

PickleWriter& PickleWriter::Op(char op) {
  bytes_ += op;
  return *this;
}

PickleWriter& PickleWriter::Raw(absl::string_view bytes) {
  bytes_.append(bytes.data(), bytes.size());
  return *this;
}

PickleWriter& PickleWriter::Str(absl::string_view s) {
  bytes_ += 'X';
  Le(&bytes_, s.size(), 4);
  bytes_.append(s.data(), s.size());
  return *this;
}

PickleWriter& PickleWriter::Int(int64_t v) {
  if (v >= INT32_MIN && v <= INT32_MAX) {
    bytes_ += 'J';
    Le(&bytes_, static_cast<uint64_t>(v), 4);
  } else {
    bytes_ += '\x8a';
    bytes_ += '\x08';
    Le(&bytes_, static_cast<uint64_t>(v), 8);
  }
  return *this;
}

PickleWriter& PickleWriter::Global(absl::string_view module,
                                   absl::string_view name) {
  absl::StrAppend(&bytes_, "c", module, "\n", name, "\n");
  return *this;
}

PickleWriter& PickleWriter::StackGlobal(absl::string_view module,
                                        absl::string_view name) {
  Str(module).Str(name);
  bytes_ += '\x93';
  return *this;
}

PickleWriter& PickleWriter::Ints(const std::vector<int64_t>& v) {
  bytes_ += '(';
  for (int64_t x : v) Int(x);
  bytes_ += 't';
  return *this;
}

PickleWriter& PickleWriter::Tensor(const std::string& storage_type,
                                   const std::string& key,
                                   int64_t storage_numel, int64_t offset,
                                   const std::vector<int64_t>& sizes,
                                   const std::vector<int64_t>& strides) {
  Global("torch._utils", "_rebuild_tensor_v2").Op('(');
  Op('(').Str("storage").Global("torch", storage_type).Str(key).Str("cpu");
  Int(storage_numel).Op('t').Op('Q');
  Int(offset).Ints(sizes).Ints(strides).Op('\x89');      // requires_grad=False
  Global("collections", "OrderedDict").Op(')').Op('R');  // backward hooks
  return Op('t').Op('R');
}

std::string TensorItems(const std::vector<TensorSpec>& specs) {
  PickleWriter w;
  for (const TensorSpec& s : specs) {
    w.Str(s.name).Tensor(s.storage_type, s.key, s.storage_numel, s.offset,
                         s.sizes, s.strides);
  }
  return w.bytes();
}

std::string TorchZip(
    absl::string_view pickle,
    const std::vector<std::pair<std::string, std::string>>& storages,
    bool compress) {
  ZipWriter zip;
  zip.Add("archive/data.pkl", pickle, compress);
  zip.Add("archive/byteorder", "little");
  for (const auto& [key, bytes] : storages) {
    zip.Add("archive/data/" + key, bytes, compress);
  }
  zip.Add("archive/version", "3\n");
  return zip.Finish();
}

std::string FloatRange(int n) {
  std::string out(4 * n, '\0');
  for (int i = 0; i < n; ++i) {
    const float f = static_cast<float>(i);
    std::memcpy(&out[4 * i], &f, 4);
  }
  return out;
}

std::string WriteTempFile(const std::string& name, absl::string_view bytes) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/", name);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), bytes.size());
  EXPECT_TRUE(f.good()) << path;
  return path;
}

}  // namespace reelfarm::pipeline::testing
