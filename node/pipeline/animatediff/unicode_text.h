#ifndef REELFARM_NODE_PIPELINE_ANIMATEDIFF_UNICODE_TEXT_H_
#define REELFARM_NODE_PIPELINE_ANIMATEDIFF_UNICODE_TEXT_H_

// The Unicode text handling that transformers' slow CLIPTokenizer does in
// Python before its regex and BPE, re-done with ICU so that each step gives
// what CPython 3.11 (Unicode 14.0, the fixtures' interpreter) gives.

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"

namespace reelfarm::pipeline {

// The Unicode version of the Python that made the reference ids. Characters
// assigned later are "Cn" (unassigned) to its unicodedata, so BasicTokenizer
// drops them as control characters; ICU knows them, so we drop them by age.
inline constexpr int kPythonUnicodeMajor = 14;
inline constexpr int kPythonUnicodeMinor = 0;

// Decodes UTF-8. Each ill-formed sequence (bad lead or continuation byte,
// overlong form, surrogate, > U+10FFFF, truncated tail) becomes U+FFFD, like
// Python's bytes.decode("utf-8", "replace"); BasicTokenizer later drops every
// U+FFFD, so invalid bytes simply vanish from the prompt.
std::u32string DecodeUtf8Lossy(absl::string_view bytes);

// Encodes code points (all valid scalar values here) as UTF-8.
void AppendUtf8(char32_t cp, std::string* out);
std::string EncodeUtf8(std::u32string_view text);

// Python's str.isspace(), the separator set of str.split() and str.strip().
bool IsPythonWhitespace(char32_t cp);

// Python's str.strip() / lstrip() / rstrip() (no argument).
std::u32string_view StripPython(std::u32string_view text, bool left,
                                bool right);

// transformers' BasicTokenizer(do_lower_case=True, strip_accents=False,
// do_split_on_punc=False).tokenize without the lower-casing: drops NUL,
// U+FFFD and control/format/unassigned characters, turns whitespace into
// spaces, puts spaces around CJK ideographs, NFC-normalises, and splits on
// Python whitespace. Lower-case each word with LowerPython.
std::vector<std::u32string> BasicTokenizeWords(std::u32string_view text);

// Python's str.lower(): full case mapping (U+0130 becomes "i\u0307") with
// the final-sigma rule, no locale tailoring. ICU's root-locale
// u_strToLower implements exactly this; per-code-point u_tolower would not.
std::u32string LowerPython(std::u32string_view text);

// False when ICU cannot normalise or case-map (its data is missing); the
// functions above would then pass text through unchanged, so a loader
// checks this once and fails instead.
bool UnicodeSupportWorks();

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_ANIMATEDIFF_UNICODE_TEXT_H_
