#ifndef REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_TOKENIZER_CONFIG_H_
#define REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_TOKENIZER_CONFIG_H_

// Reading a diffusers/transformers CLIP tokenizer folder: vocab.json,
// tokenizer_config.json and special_tokens_map.json (merges.txt is
// ClipBpe's). Errors name the file.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"

namespace reelfarm::pipeline {

// A transformers AddedToken: matched verbatim in the raw prompt before any
// clean-up, then mapped straight to its id.
struct ClipAddedToken {
  std::string content;
  int64_t id = -1;
  bool lstrip = false;  // eats whitespace on its left
  bool rstrip = false;  // eats whitespace on its right
  bool single_word = false;
};

struct ClipTokenizerConfig {
  // CLIPTokenizer's defaults, overridden by tokenizer_config.json and then
  // by special_tokens_map.json, as from_pretrained does.
  std::string bos_token = "<|startoftext|>";
  std::string eos_token = "<|endoftext|>";
  std::string pad_token = "<|endoftext|>";
  std::string unk_token = "<|endoftext|>";
  // model_max_length; 77 (CLIP's context) when the config has none.
  int max_length = 77;
  // tokenizer_config.json's added_tokens_decoder, plus the four special
  // tokens, whose flags come from their own entries (a special token that
  // is only a string has all flags off). `id` is -1 until resolved.
  std::vector<ClipAddedToken> added_tokens;
};

// Reads a whole file; NotFound names the path when it is missing.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

// vocab.json: a JSON object from token to non-negative integer id.
absl::StatusOr<std::unordered_map<std::string, int64_t>> ParseClipVocab(
    const std::string& text, const std::string& source);

// tokenizer_config.json and special_tokens_map.json of `dir`; either may be
// absent. Ids of the added tokens are not resolved here.
absl::StatusOr<ClipTokenizerConfig> LoadClipTokenizerConfig(
    const std::string& dir);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_TOKENIZER_CONFIG_H_
