#ifndef REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_TOKENIZER_H_
#define REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "node/pipeline/animatediff/clip_bpe.h"
#include "node/pipeline/animatediff/clip_tokenizer_config.h"

namespace reelfarm::pipeline {

// The CLIP tokenizer of Stable Diffusion 1.x, giving the ids of
// transformers' slow CLIPTokenizer (v4.39) when ftfy is not installed:
//   1. added tokens (<|startoftext|>, <|endoftext|>, ...) typed in the raw
//      prompt are split out first and map straight to their ids;
//   2. the rest goes through BasicTokenizer(strip_accents=False,
//      do_split_on_punc=False): control characters dropped, whitespace
//      collapsed, spaces around CJK ideographs, NFC, Python str.lower();
//   3. CLIP's regex cuts each word into pieces, and each piece's UTF-8
//      bytes go through byte-level BPE with the "</w>" end-of-word marker.
// Input is UTF-8; invalid bytes are dropped (see DecodeUtf8Lossy).
//
// Thread safety: all methods are const and may be called concurrently; the
// per-word cache behind them takes a lock (one lane normally owns a
// tokenizer, so the lock is uncontended).
class ClipTokenizer {
 public:
  // A diffusers tokenizer folder: vocab.json and merges.txt (required),
  // tokenizer_config.json and special_tokens_map.json (optional: pad token,
  // model_max_length, added tokens). The BOS, EOS, pad and unknown tokens
  // must have ids, from vocab.json or added_tokens_decoder.
  static absl::StatusOr<ClipTokenizer> LoadFolder(const std::string& dir);

  ClipTokenizer(ClipTokenizer&&);
  ClipTokenizer& operator=(ClipTokenizer&&);
  ~ClipTokenizer();

  // The token ids of `text`, without BOS/EOS, untruncated.
  std::vector<int64_t> Tokenize(absl::string_view text) const;

  // What the text encoder takes: BOS + ids + EOS, the ids cut to
  // max_length() - 2 when longer (EOS is kept), then padded with the pad id
  // to exactly max_length(). `num_truncated`, when given, receives how many
  // ids were cut (diffusers warns about those).
  std::vector<int64_t> Encode(absl::string_view text,
                              int* num_truncated = nullptr) const;

  // model_max_length: 77 for CLIP.
  int max_length() const { return max_length_; }
  int64_t bos_id() const { return bos_id_; }
  int64_t eos_id() const { return eos_id_; }
  int64_t pad_id() const { return pad_id_; }

 private:
  struct AddedToken {
    std::u32string content;
    int64_t id;
    bool lstrip, rstrip, single_word;
  };
  struct WordCache;

  ClipTokenizer();

  // convert_tokens_to_ids: added tokens first, then vocab.json, else unk.
  int64_t TokenId(const std::string& token) const;
  const AddedToken* FindAdded(std::u32string_view text) const;
  // PreTrainedTokenizer.tokenize's split of the raw text on added tokens,
  // with their lstrip/rstrip/single_word handling.
  std::vector<std::u32string> SplitOnAddedTokens(
      std::u32string_view text) const;
  // The ids of one lower-cased-to-be BasicTokenizer word, cached.
  void AppendWordIds(const std::u32string& word,
                     std::vector<int64_t>* ids) const;

  std::unordered_map<std::string, int64_t> vocab_;
  std::vector<AddedToken> added_;
  std::unordered_map<std::string, int64_t> added_ids_;  // by UTF-8 content
  std::unique_ptr<ClipBpe> bpe_;
  int max_length_ = 77;
  int64_t bos_id_ = -1, eos_id_ = -1, pad_id_ = -1, unk_id_ = -1;
  std::unique_ptr<WordCache> cache_;
};

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_TOKENIZER_H_
