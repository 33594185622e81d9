#ifndef REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_BPE_H_
#define REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_BPE_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reelfarm::pipeline {

// CLIP's byte-level BPE: a pre-token's UTF-8 bytes are mapped to printable
// characters (GPT-2's bytes_to_unicode), the last one gets the "</w>"
// end-of-word marker, and the ranked merges of merges.txt are applied,
// lowest rank first, as CLIPTokenizer.bpe does. Immutable once built, so it
// is safe to share between threads.
class ClipBpe {
 public:
  // CLIPTokenizer reads at most this many merges (49152 - 256 - 2).
  static constexpr int kMaxMerges = 48894;

  // Parses merges.txt text the way CLIPTokenizer does: strip the file,
  // skip its first line (the "#version" header), use the next kMaxMerges
  // lines, each "left right". A used line with another number of fields is
  // an error naming `source` and the line number; a blank one is ignored.
  static absl::StatusOr<ClipBpe> Parse(absl::string_view text,
                                       const std::string& source);

  // The BPE symbols of one pre-token given as raw UTF-8 bytes, spelled as
  // vocab.json spells them (e.g. "caf", "Ã©</w>").
  std::vector<std::string> Apply(absl::string_view piece) const;

  // bytes_to_unicode() of one byte, as UTF-8.
  const std::string& ByteSymbol(uint8_t byte) const {
    return symbols_[byte_symbol_[byte]];
  }

  int num_merges() const { return num_merges_; }

 private:
  struct Merge {
    int32_t rank;
    int32_t merged;  // symbol id of left + right
  };
  static uint64_t PairKey(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  int32_t Intern(const std::string& symbol);

  // Symbols are interned so that merging compares integers, not strings.
  std::vector<std::string> symbols_;
  std::unordered_map<std::string, int32_t> symbol_ids_;
  std::unordered_map<uint64_t, Merge> merges_;
  int32_t byte_symbol_[256] = {};
  int32_t byte_symbol_eow_[256] = {};  // the same followed by "</w>"
  int num_merges_ = 0;
};

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_BPE_H_
