#include "node/pipeline/animatediff/clip_tokenizer.h"

#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/pipeline/animatediff/clip_regex.h"
#include "node/pipeline/animatediff/unicode_text.h"

namespace reelfarm::pipeline {
namespace {

// Distinct words of a sweep are few; the bound only stops a pathological
// stream of unique words from growing memory without limit.
constexpr size_t kMaxCachedWords = 1 << 16;

// CLIPTokenizer.bpe's cache starts with these two entries, so a regex piece
// spelling one of them (e.g. "<|ENDOFTEXT|>" typed in the prompt: the
// added-token split is case-sensitive, but BasicTokenizer lower-cases it)
// maps to the special token whole instead of going through BPE.
constexpr absl::string_view kWholePieces[] = {"<|startoftext|>",
                                              "<|endoftext|>"};

}  // namespace

struct ClipTokenizer::WordCache {
  std::mutex mu;
  std::unordered_map<std::string, std::vector<int64_t>> ids;
};

ClipTokenizer::ClipTokenizer() : cache_(std::make_unique<WordCache>()) {}
ClipTokenizer::ClipTokenizer(ClipTokenizer&&) = default;
ClipTokenizer& ClipTokenizer::operator=(ClipTokenizer&&) = default;
ClipTokenizer::~ClipTokenizer() = default;

absl::StatusOr<ClipTokenizer> ClipTokenizer::LoadFolder(
    const std::string& dir) {
  if (!UnicodeSupportWorks()) {
    return absl::FailedPreconditionError(
        "ICU cannot normalise or lower-case text (is its data missing?)");
  }
  ClipTokenizer tokenizer;

  const std::string vocab_path = dir + "/vocab.json";
  absl::StatusOr<std::string> text = ReadTextFile(vocab_path);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::unordered_map<std::string, int64_t>> vocab =
      ParseClipVocab(*text, vocab_path);
  if (!vocab.ok()) return vocab.status();
  tokenizer.vocab_ = *std::move(vocab);

  const std::string merges_path = dir + "/merges.txt";
  text = ReadTextFile(merges_path);
  if (!text.ok()) return text.status();
  absl::StatusOr<ClipBpe> bpe = ClipBpe::Parse(*text, merges_path);
  if (!bpe.ok()) return bpe.status();
  tokenizer.bpe_ = std::make_unique<ClipBpe>(*std::move(bpe));

  absl::StatusOr<ClipTokenizerConfig> config = LoadClipTokenizerConfig(dir);
  if (!config.ok()) return config.status();
  tokenizer.max_length_ = config->max_length;
  for (const ClipAddedToken& token : config->added_tokens) {
    int64_t id = token.id;
    if (id < 0) {
      // A special token without an added_tokens_decoder entry takes its
      // vocab.json id; transformers would append a new id past the vocab,
      // which the text encoder has no embedding for.
      auto it = tokenizer.vocab_.find(token.content);
      if (it == tokenizer.vocab_.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            vocab_path, ": special token \"", token.content,
            "\" is missing (and tokenizer_config.json's added_tokens_decoder "
            "does not give its id)"));
      }
      id = it->second;
    }
    tokenizer.added_.push_back(AddedToken{DecodeUtf8Lossy(token.content), id,
                                          token.lstrip, token.rstrip,
                                          token.single_word});
    tokenizer.added_ids_[token.content] = id;
  }
  // Every special token is among the added tokens, so these are found.
  auto id_of = [&tokenizer](const std::string& content) {
    return tokenizer.added_ids_.at(content);
  };
  tokenizer.bos_id_ = id_of(config->bos_token);
  tokenizer.eos_id_ = id_of(config->eos_token);
  tokenizer.pad_id_ = id_of(config->pad_token);
  tokenizer.unk_id_ = id_of(config->unk_token);
  return tokenizer;
}

int64_t ClipTokenizer::TokenId(const std::string& token) const {
  auto it = added_ids_.find(token);
  if (it != added_ids_.end()) return it->second;
  it = vocab_.find(token);
  return it != vocab_.end() ? it->second : unk_id_;
}

const ClipTokenizer::AddedToken* ClipTokenizer::FindAdded(
    std::u32string_view text) const {
  for (const AddedToken& token : added_) {
    if (token.content == text) return &token;
  }
  return nullptr;
}

std::vector<std::u32string> ClipTokenizer::SplitOnAddedTokens(
    std::u32string_view text) const {
  // tokens_trie.split: at each position the longest added token that
  // starts there, scanning left to right.
  std::vector<std::u32string> parts;
  size_t start = 0, pos = 0;
  while (pos < text.size()) {
    const AddedToken* best = nullptr;
    for (const AddedToken& token : added_) {
      const size_t len = token.content.size();
      if ((best == nullptr || len > best->content.size()) &&
          text.compare(pos, len, token.content) == 0) {
        best = &token;
      }
    }
    if (best == nullptr) {
      ++pos;
      continue;
    }
    parts.emplace_back(text.substr(start, pos - start));
    parts.push_back(best->content);
    pos += best->content.size();
    start = pos;
  }
  parts.emplace_back(text.substr(start));

  // The whitespace-eating flags, step for step as PreTrainedTokenizer does
  // (left/right are the neighbours as they were before this step).
  for (size_t i = 0; i < parts.size(); ++i) {
    const AddedToken* token = FindAdded(parts[i]);
    if (token == nullptr) continue;
    const std::u32string left = i > 0 ? parts[i - 1] : std::u32string();
    const std::u32string right =
        i + 1 < parts.size() ? parts[i + 1] : std::u32string();
    if (token->rstrip && !right.empty()) {
      parts[i + 1] = std::u32string(StripPython(right, true, false));
    }
    if (token->lstrip && !left.empty()) {
      parts[i - 1] = std::u32string(StripPython(left, false, true));
    }
    if (token->single_word && !left.empty() && left.back() != U' ') {
      parts[i - 1] += parts[i];
      parts[i].clear();
    } else if (token->single_word && !right.empty() && right.front() != U' ') {
      parts[i + 1] = parts[i] + parts[i + 1];
      parts[i].clear();
    }
  }
  return parts;
}

void ClipTokenizer::AppendWordIds(const std::u32string& word,
                                  std::vector<int64_t>* ids) const {
  const std::string key = EncodeUtf8(word);
  {
    std::lock_guard<std::mutex> lock(cache_->mu);
    auto it = cache_->ids.find(key);
    if (it != cache_->ids.end()) {
      ids->insert(ids->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int64_t> word_ids;
  const std::u32string lower = LowerPython(word);
  for (std::u32string_view piece : ClipRegexFindAll(lower)) {
    const std::string bytes = EncodeUtf8(piece);
    bool whole = false;
    for (absl::string_view special : kWholePieces) whole |= bytes == special;
    if (whole) {
      word_ids.push_back(TokenId(bytes));
      continue;
    }
    for (const std::string& symbol : bpe_->Apply(bytes)) {
      word_ids.push_back(TokenId(symbol));
    }
  }
  ids->insert(ids->end(), word_ids.begin(), word_ids.end());
  std::lock_guard<std::mutex> lock(cache_->mu);
  if (cache_->ids.size() >= kMaxCachedWords) cache_->ids.clear();
  cache_->ids.emplace(key, std::move(word_ids));
}

std::vector<int64_t> ClipTokenizer::Tokenize(absl::string_view text) const {
  std::vector<int64_t> ids;
  for (const std::u32string& part : SplitOnAddedTokens(DecodeUtf8Lossy(text))) {
    if (part.empty()) continue;  // a side that a flag stripped away
    if (const AddedToken* token = FindAdded(part)) {
      ids.push_back(token->id);
      continue;
    }
    for (const std::u32string& word : BasicTokenizeWords(part)) {
      AppendWordIds(word, &ids);
    }
  }
  return ids;
}

std::vector<int64_t> ClipTokenizer::Encode(absl::string_view text,
                                           int* num_truncated) const {
  std::vector<int64_t> body = Tokenize(text);
  const size_t room = static_cast<size_t>(max_length_) - 2;
  const size_t cut = body.size() > room ? body.size() - room : 0;
  body.resize(body.size() - cut);
  if (num_truncated != nullptr) *num_truncated = static_cast<int>(cut);
  std::vector<int64_t> ids;
  ids.reserve(static_cast<size_t>(max_length_));
  ids.push_back(bos_id_);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.push_back(eos_id_);
  ids.resize(static_cast<size_t>(max_length_), pad_id_);
  return ids;
}

}  // namespace reelfarm::pipeline
