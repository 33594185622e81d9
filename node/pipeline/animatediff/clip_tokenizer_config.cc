#include "node/pipeline/animatediff/clip_tokenizer_config.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "nlohmann/json.hpp"

namespace reelfarm::pipeline {
namespace {

using nlohmann::json;

// The longest context we accept; real CLIP configs say 77.
constexpr int kMaxSupportedLength = 1 << 16;

absl::Status Bad(const std::string& source, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", what));
}

// Parses JSON without exceptions; nullopt when `path` does not exist.
absl::StatusOr<std::optional<json>> ReadOptionalJson(const std::string& path) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (absl::IsNotFound(text.status())) return std::optional<json>();
  if (!text.ok()) return text.status();
  json value = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return Bad(path, "not valid JSON");
  return std::optional<json>(std::move(value));
}

bool FlagOrFalse(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

// A token given as "text" or as an AddedToken object {"content": ...}.
absl::StatusOr<ClipAddedToken> ParseToken(const json& value,
                                          const std::string& source,
                                          const std::string& key) {
  ClipAddedToken token;
  if (value.is_string()) {
    token.content = value.get<std::string>();
  } else if (value.is_object() && value.contains("content") &&
             value["content"].is_string()) {
    token.content = value["content"].get<std::string>();
    token.lstrip = FlagOrFalse(value, "lstrip");
    token.rstrip = FlagOrFalse(value, "rstrip");
    token.single_word = FlagOrFalse(value, "single_word");
  } else {
    return Bad(source, absl::StrCat(key,
                                    " is neither a string nor an object "
                                    "with a string \"content\""));
  }
  if (token.content.empty()) return Bad(source, absl::StrCat(key, " is empty"));
  return token;
}

// Adds or updates an added token by content; a later definition's flags
// win, an id once known is kept.
void Upsert(ClipAddedToken token, std::vector<ClipAddedToken>* tokens) {
  for (ClipAddedToken& existing : *tokens) {
    if (existing.content == token.content) {
      if (token.id < 0) token.id = existing.id;
      existing = std::move(token);
      return;
    }
  }
  tokens->push_back(std::move(token));
}

// The special tokens as the files define them; they become added tokens
// only once every file has been read, so a default that a file replaces is
// not left behind.
struct SpecialTokens {
  ClipAddedToken bos{"<|startoftext|>"};
  ClipAddedToken eos{"<|endoftext|>"};
  ClipAddedToken unk{"<|endoftext|>"};
  ClipAddedToken pad{"<|endoftext|>"};
  std::vector<ClipAddedToken> additional;
};

// The special-token keys of one file (tokenizer_config.json or
// special_tokens_map.json).
absl::Status ApplySpecialTokens(const json& root, const std::string& source,
                                SpecialTokens* special) {
  struct Slot {
    const char* key;
    ClipAddedToken* token;
  };
  const Slot slots[] = {{"bos_token", &special->bos},
                        {"eos_token", &special->eos},
                        {"unk_token", &special->unk},
                        {"pad_token", &special->pad}};
  for (const Slot& slot : slots) {
    auto it = root.find(slot.key);
    if (it == root.end()) continue;
    absl::StatusOr<ClipAddedToken> token = ParseToken(*it, source, slot.key);
    if (!token.ok()) return token.status();
    *slot.token = *std::move(token);
  }
  auto extra = root.find("additional_special_tokens");
  if (extra != root.end() && extra->is_array()) {
    special->additional.clear();
    for (const json& value : *extra) {
      absl::StatusOr<ClipAddedToken> token =
          ParseToken(value, source, "additional_special_tokens");
      if (!token.ok()) return token.status();
      special->additional.push_back(*std::move(token));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyTokenizerConfig(const json& root, const std::string& source,
                                  ClipTokenizerConfig* config,
                                  SpecialTokens* special) {
  auto decoder = root.find("added_tokens_decoder");
  if (decoder != root.end()) {
    if (!decoder->is_object()) {
      return Bad(source, "added_tokens_decoder is not an object");
    }
    for (auto it = decoder->begin(); it != decoder->end(); ++it) {
      const std::string where =
          absl::StrCat("added_tokens_decoder[", it.key(), "]");
      char* end = nullptr;
      errno = 0;
      const long long id = std::strtoll(it.key().c_str(), &end, 10);
      if (it.key().empty() || *end != '\0' || errno != 0 || id < 0) {
        return Bad(source, absl::StrCat(where, ": key is not a token id"));
      }
      absl::StatusOr<ClipAddedToken> token =
          ParseToken(it.value(), source, where);
      if (!token.ok()) return token.status();
      token->id = id;
      Upsert(*std::move(token), &config->added_tokens);
    }
  }
  auto max_length = root.find("model_max_length");
  if (max_length != root.end()) {
    if (!max_length->is_number_integer() || max_length->get<int64_t>() < 2 ||
        max_length->get<int64_t>() > kMaxSupportedLength) {
      return Bad(source, absl::StrCat("model_max_length ", max_length->dump(),
                                      " is not an integer in [2, ",
                                      kMaxSupportedLength, "]"));
    }
    config->max_length = static_cast<int>(max_length->get<int64_t>());
  }
  return ApplySpecialTokens(root, source, special);
}

}  // namespace

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  std::string text;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    text.append(buffer, n);
  }
  const bool failed = std::ferror(file) != 0;
  const int err = errno;
  std::fclose(file);
  if (failed) return ErrnoToStatus(err, absl::StrCat("read ", path));
  return text;
}

absl::StatusOr<std::unordered_map<std::string, int64_t>> ParseClipVocab(
    const std::string& text, const std::string& source) {
  const json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Bad(source, "not valid JSON");
  if (!root.is_object()) return Bad(source, "not a JSON object");
  std::unordered_map<std::string, int64_t> vocab;
  vocab.reserve(root.size());
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      return Bad(source, absl::StrCat("id of token \"", it.key(),
                                      "\" is not a non-negative integer"));
    }
    vocab[it.key()] = it->get<int64_t>();
  }
  if (vocab.empty()) return Bad(source, "empty vocabulary");
  return vocab;
}

absl::StatusOr<ClipTokenizerConfig> LoadClipTokenizerConfig(
    const std::string& dir) {
  ClipTokenizerConfig config;
  SpecialTokens special;
  const std::string config_path = dir + "/tokenizer_config.json";
  absl::StatusOr<std::optional<json>> root = ReadOptionalJson(config_path);
  if (!root.ok()) return root.status();
  if (root->has_value()) {
    if (!(*root)->is_object()) return Bad(config_path, "not a JSON object");
    absl::Status status =
        ApplyTokenizerConfig(**root, config_path, &config, &special);
    if (!status.ok()) return status;
  }
  const std::string map_path = dir + "/special_tokens_map.json";
  root = ReadOptionalJson(map_path);
  if (!root.ok()) return root.status();
  if (root->has_value()) {
    if (!(*root)->is_object()) return Bad(map_path, "not a JSON object");
    absl::Status status = ApplySpecialTokens(**root, map_path, &special);
    if (!status.ok()) return status;
  }
  config.bos_token = special.bos.content;
  config.eos_token = special.eos.content;
  config.unk_token = special.unk.content;
  config.pad_token = special.pad.content;
  // CLIPTokenizer.__init__ adds the special tokens after the config's
  // added_tokens_decoder; their own flags replace that entry's.
  for (ClipAddedToken token :
       {special.bos, special.eos, special.unk, special.pad}) {
    Upsert(std::move(token), &config.added_tokens);
  }
  for (ClipAddedToken& token : special.additional) {
    Upsert(std::move(token), &config.added_tokens);
  }
  return config;
}

}  // namespace reelfarm::pipeline
