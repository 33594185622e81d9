#ifndef REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_REGEX_H_
#define REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_REGEX_H_

#include <string_view>
#include <vector>

namespace reelfarm::pipeline {

// re.findall of CLIP's pre-tokenizer pattern (Python `regex` module,
// IGNORECASE):
//   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|
//   [\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// over one lower-cased word. The pieces are views into `word`, in order;
// characters no alternative matches (whitespace, and U+0345, see the .cc)
// are skipped as findall skips them.
std::vector<std::u32string_view> ClipRegexFindAll(std::u32string_view word);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_REGEX_H_
