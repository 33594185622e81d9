#include "node/outputs/gif_encoder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace reelfarm {
namespace {

constexpr int kMaxCodeBits = 12;
constexpr int kMaxCodes = 1 << kMaxCodeBits;

void PutU16(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
}

// Packs variable-width codes LSB first into GIF's 255-byte sub-blocks.
class CodeWriter {
 public:
  explicit CodeWriter(std::string& out) : out_(out) {}

  void Put(uint32_t code, int bits) {
    acc_ |= uint64_t{code} << nbits_;
    nbits_ += bits;
    while (nbits_ >= 8) {
      Byte(static_cast<uint8_t>(acc_ & 0xff));
      acc_ >>= 8;
      nbits_ -= 8;
    }
  }

  void Finish() {
    if (nbits_ > 0) Byte(static_cast<uint8_t>(acc_ & 0xff));
    acc_ = 0;
    nbits_ = 0;
    FlushBlock();
    out_.push_back('\0');  // block terminator
  }

 private:
  void Byte(uint8_t b) {
    block_[len_++] = b;
    if (len_ == 255) FlushBlock();
  }
  void FlushBlock() {
    if (len_ == 0) return;
    out_.push_back(static_cast<char>(len_));
    out_.append(reinterpret_cast<const char*>(block_), len_);
    len_ = 0;
  }

  std::string& out_;
  uint64_t acc_ = 0;
  int nbits_ = 0;
  uint8_t block_[255];
  size_t len_ = 0;
};

// The LZW string table: (prefix code, next index) -> code, open addressing.
class CodeTable {
 public:
  CodeTable() : keys_(kSlots), codes_(kSlots) { Clear(); }
  void Clear() { std::fill(keys_.begin(), keys_.end(), kEmpty); }
  int Find(uint32_t prefix, uint8_t next) const {
    const uint32_t key = prefix << 8 | next;
    for (uint32_t s = Slot(key);; s = (s + 1) & (kSlots - 1)) {
      if (keys_[s] == kEmpty) return -1;
      if (keys_[s] == key) return codes_[s];
    }
  }
  void Add(uint32_t prefix, uint8_t next, uint16_t code) {
    const uint32_t key = prefix << 8 | next;
    uint32_t s = Slot(key);
    while (keys_[s] != kEmpty) s = (s + 1) & (kSlots - 1);
    keys_[s] = key;
    codes_[s] = code;
  }

 private:
  static constexpr uint32_t kSlots = 1 << 13;  // twice the 4096 codes
  static constexpr uint32_t kEmpty = 0xffffffffu;
  static uint32_t Slot(uint32_t key) {
    return (key * 2654435761u) >> (32 - 13);
  }
  std::vector<uint32_t> keys_;
  std::vector<uint16_t> codes_;
};

// One frame's image data: the minimum code size byte, then LZW codes.
void EncodeLzw(const std::string& indices, int min_code_bits,
               std::string& out) {
  out.push_back(static_cast<char>(min_code_bits));
  const uint32_t clear = 1u << min_code_bits;
  const uint32_t end = clear + 1;
  CodeWriter writer(out);
  CodeTable table;
  int bits = min_code_bits + 1;
  uint32_t next_code = end + 1;
  writer.Put(clear, bits);
  const auto* p = reinterpret_cast<const uint8_t*>(indices.data());
  uint32_t current = p[0];
  for (size_t i = 1; i < indices.size(); ++i) {
    const int found = table.Find(current, p[i]);
    if (found >= 0) {
      current = static_cast<uint32_t>(found);
      continue;
    }
    writer.Put(current, bits);
    if (next_code < kMaxCodes) {
      table.Add(current, p[i], static_cast<uint16_t>(next_code++));
      // The decoder adds its entries one code behind the encoder, so it
      // widens when our next code passes 2^bits, not when it reaches it.
      if (next_code > (1u << bits) && bits < kMaxCodeBits) ++bits;
    } else {
      writer.Put(clear, bits);
      table.Clear();
      bits = min_code_bits + 1;
      next_code = end + 1;
    }
    current = p[i];
  }
  writer.Put(current, bits);
  // The decoder adds an entry for that last code too and may widen.
  if (next_code == (1u << bits) && bits < kMaxCodeBits) ++bits;
  writer.Put(end, bits);
  writer.Finish();
}

}  // namespace

absl::StatusOr<std::string> EncodeGif(
    uint32_t width, uint32_t height, const std::vector<Rgb>& palette,
    const std::vector<std::string>& indexed_frames,
    const std::vector<uint16_t>& delays_cs) {
  if (width == 0 || height == 0 || width > 0xffff || height > 0xffff) {
    return absl::InvalidArgumentError(
        absl::StrCat("GIF size ", width, "x", height, " out of range"));
  }
  if (palette.empty() || palette.size() > 256) {
    return absl::InvalidArgumentError("GIF palette needs 1..256 colours");
  }
  if (indexed_frames.empty() || delays_cs.size() != indexed_frames.size()) {
    return absl::InvalidArgumentError("GIF needs frames, one delay each");
  }
  // Colour table size 2^(n+1) >= palette; LZW minimum code size >= 2.
  int table_bits = 1;
  while ((size_t{1} << table_bits) < palette.size()) ++table_bits;
  const int min_code_bits = std::max(2, table_bits);

  std::string out = "GIF89a";
  PutU16(out, width);
  PutU16(out, height);
  out.push_back(static_cast<char>(0xf0 | (table_bits - 1)));  // global table
  out.push_back('\0');                                        // background
  out.push_back('\0');                                        // aspect
  for (size_t i = 0; i < (size_t{1} << table_bits); ++i) {
    const Rgb c = i < palette.size() ? palette[i] : Rgb{0, 0, 0};
    out.append(reinterpret_cast<const char*>(c.data()), 3);
  }
  // NETSCAPE2.0 application extension: loop forever.
  out.append("\x21\xff\x0bNETSCAPE2.0\x03\x01", 16);
  PutU16(out, 0);
  out.push_back('\0');

  const size_t pixels = size_t{width} * height;
  for (size_t f = 0; f < indexed_frames.size(); ++f) {
    const std::string& frame = indexed_frames[f];
    if (frame.size() != pixels) {
      return absl::InvalidArgumentError(
          absl::StrCat("GIF frame ", f, " has ", frame.size(),
                       " indices, expected ", pixels));
    }
    for (unsigned char index : frame) {
      if (index >= palette.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "GIF frame ", f, " uses colour ", index, " beyond the palette"));
      }
    }
    // Graphic control extension: keep the frame (disposal 1), its delay.
    out.append("\x21\xf9\x04\x04", 4);
    PutU16(out, delays_cs[f]);
    out.append("\x00\x00", 2);
    // Image descriptor: the whole canvas, no local colour table.
    out.push_back('\x2c');
    PutU16(out, 0);
    PutU16(out, 0);
    PutU16(out, width);
    PutU16(out, height);
    out.push_back('\0');
    EncodeLzw(frame, min_code_bits, out);
  }
  out.push_back('\x3b');  // trailer
  return out;
}

std::vector<uint16_t> GifFrameDelays(size_t frames, uint32_t fps) {
  if (fps == 0) fps = 1;
  std::vector<uint16_t> delays;
  uint64_t shown = 0;  // in 1/100 s, rounded
  for (size_t i = 1; i <= frames; ++i) {
    const uint64_t until = (uint64_t{100} * i + fps / 2) / fps;
    delays.push_back(
        static_cast<uint16_t>(std::min<uint64_t>(until - shown, 0xffff)));
    shown = until;
  }
  return delays;
}

}  // namespace reelfarm
