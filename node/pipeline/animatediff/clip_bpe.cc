#include "node/pipeline/animatediff/clip_bpe.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/pipeline/animatediff/unicode_text.h"

namespace reelfarm::pipeline {
namespace {

constexpr absl::string_view kEndOfWord = "</w>";

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves,
// the other 68 bytes (controls, space, DEL, NBSP, soft hyphen) are moved in
// order to U+0100.. so that no symbol is whitespace or a control character.
char32_t ByteToChar(uint8_t byte, char32_t* next_free) {
  const bool printable = (byte >= 0x21 && byte <= 0x7E) ||
                         (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
  return printable ? byte : (*next_free)++;
}

}  // namespace

int32_t ClipBpe::Intern(const std::string& symbol) {
  auto [it, inserted] =
      symbol_ids_.emplace(symbol, static_cast<int32_t>(symbols_.size()));
  if (inserted) symbols_.push_back(symbol);
  return it->second;
}

absl::StatusOr<ClipBpe> ClipBpe::Parse(absl::string_view text,
                                       const std::string& source) {
  ClipBpe bpe;
  char32_t next_free = 0x100;
  for (int b = 0; b < 256; ++b) {
    std::string symbol;
    AppendUtf8(ByteToChar(static_cast<uint8_t>(b), &next_free), &symbol);
    bpe.byte_symbol_[b] = bpe.Intern(symbol);
    bpe.byte_symbol_eow_[b] = bpe.Intern(absl::StrCat(symbol, kEndOfWord));
  }

  // Python: read().strip().split("\n")[1:49152 - 256 - 2 + 1]. Line numbers
  // in errors count from the top of the unstripped file.
  int line_no = 1;
  while (!text.empty() && IsAsciiSpace(text.front())) {
    if (text.front() == '\n') ++line_no;
    text.remove_prefix(1);
  }
  while (!text.empty() && IsAsciiSpace(text.back())) text.remove_suffix(1);

  int index = 0;  // line index after the strip; 0 is the header
  while (!text.empty() && index <= kMaxMerges) {
    const size_t eol = text.find('\n');
    const absl::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == absl::string_view::npos ? text.size() : eol + 1);
    if (index++ == 0) {
      ++line_no;
      continue;
    }
    // line.split(): fields between runs of whitespace.
    std::vector<absl::string_view> fields;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && IsAsciiSpace(line[i])) ++i;
      size_t j = i;
      while (j < line.size() && !IsAsciiSpace(line[j])) ++j;
      if (j > i) fields.push_back(line.substr(i, j - i));
      i = j;
    }
    if (!fields.empty() && fields.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ":", line_no, ": malformed merge: expected 2 symbols, got ",
          fields.size(), " in \"", line.substr(0, 80), "\""));
    }
    if (fields.size() == 2) {
      const std::string left(fields[0]), right(fields[1]);
      const int32_t l = bpe.Intern(left);
      const int32_t r = bpe.Intern(right);
      const int32_t merged = bpe.Intern(left + right);
      // A repeated pair takes its later rank, as Python's dict(zip()) does.
      bpe.merges_[PairKey(l, r)] = Merge{index - 2, merged};
      ++bpe.num_merges_;
    }
    ++line_no;
  }
  if (bpe.num_merges_ == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no merges after the header line"));
  }
  return bpe;
}

std::vector<std::string> ClipBpe::Apply(absl::string_view piece) const {
  if (piece.empty()) return {};
  std::vector<int32_t> word;
  word.reserve(piece.size());
  for (size_t i = 0; i < piece.size(); ++i) {
    const auto b = static_cast<uint8_t>(piece[i]);
    word.push_back(i + 1 < piece.size() ? byte_symbol_[b]
                                        : byte_symbol_eow_[b]);
  }
  std::vector<int32_t> merged_word;
  merged_word.reserve(word.size());
  while (word.size() > 1) {
    // The adjacent pair of lowest rank; no ranked pair left ends the BPE.
    const Merge* best = nullptr;
    int32_t best_left = 0, best_right = 0;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      auto it = merges_.find(PairKey(word[i], word[i + 1]));
      if (it != merges_.end() &&
          (best == nullptr || it->second.rank < best->rank)) {
        best = &it->second;
        best_left = word[i];
        best_right = word[i + 1];
      }
    }
    if (best == nullptr) break;
    // Merge every occurrence, left to right, without overlaps.
    merged_word.clear();
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == best_left &&
          word[i + 1] == best_right) {
        merged_word.push_back(best->merged);
        i += 2;
      } else {
        merged_word.push_back(word[i]);
        ++i;
      }
    }
    std::swap(word, merged_word);
  }
  std::vector<std::string> out;
  out.reserve(word.size());
  for (int32_t id : word) out.push_back(symbols_[id]);
  return out;
}

}  // namespace reelfarm::pipeline
