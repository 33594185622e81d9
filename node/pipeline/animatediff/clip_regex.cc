#include "node/pipeline/animatediff/clip_regex.h"

#include <unicode/uchar.h>

namespace reelfarm::pipeline {
namespace {

enum class CharClass { kLetter, kNumber, kSpace, kOther, kNone };

// Which of the pattern's character sets a code point falls in.
CharClass Classify(char32_t cp) {
  if (cp < 0x80) {
    if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') return CharClass::kLetter;
    if (cp >= '0' && cp <= '9') return CharClass::kNumber;
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D)) return CharClass::kSpace;
    return CharClass::kOther;
  }
  // Under IGNORECASE the regex module tests a set against every case
  // variant of the character. COMBINING GREEK YPOGEGRAMMENI (Mn) has the
  // letter iota among its variants, so [\p{L}] rejects it (itself not L)
  // while [^\s\p{L}\p{N}] rejects it too (a variant is L): nothing matches
  // it. Checked over all of Unicode 14 against the regex module; it is the
  // only such character.
  if (cp == 0x345) return CharClass::kNone;
  if (u_isUWhiteSpace(static_cast<UChar32>(cp))) return CharClass::kSpace;
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      return CharClass::kLetter;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      return CharClass::kNumber;
    default:
      return CharClass::kOther;
  }
}

// Case-insensitive equality with an ASCII lower-case letter or symbol, as
// the regex module's simple case folding sees it: U+017F LATIN SMALL LETTER
// LONG S folds to "s" and U+212A KELVIN SIGN to "k".
bool FoldEquals(char32_t cp, char32_t ascii) {
  if (cp == ascii) return true;
  if (cp < 0x80) return false;
  return u_foldCase(static_cast<UChar32>(cp), U_FOLD_CASE_DEFAULT) ==
         static_cast<UChar32>(ascii);
}

// Length of `literal` if `word` matches it case-insensitively at `pos`.
size_t MatchLiteral(std::u32string_view word, size_t pos,
                    std::u32string_view literal) {
  if (word.size() - pos < literal.size()) return 0;
  for (size_t k = 0; k < literal.size(); ++k) {
    if (!FoldEquals(word[pos + k], literal[k])) return 0;
  }
  return literal.size();
}

// The alternatives before the character sets, in the pattern's order. As
// each starts with a fixed prefix that no other alternative shares, trying
// them in order and taking the first that matches is what the regex does.
constexpr std::u32string_view kLiterals[] = {
    U"<|startoftext|>",
    U"<|endoftext|>",
    U"'s",
    U"'t",
    U"'re",
    U"'ve",
    U"'m",
    U"'ll",
    U"'d",
};

}  // namespace

std::vector<std::u32string_view> ClipRegexFindAll(std::u32string_view word) {
  std::vector<std::u32string_view> pieces;
  const size_t n = word.size();
  size_t pos = 0;
  while (pos < n) {
    size_t len = 0;
    for (std::u32string_view literal : kLiterals) {
      len = MatchLiteral(word, pos, literal);
      if (len > 0) break;
    }
    if (len == 0) {
      const CharClass cls = Classify(word[pos]);
      if (cls == CharClass::kLetter || cls == CharClass::kOther) {
        // [\p{L}]+ and [^\s\p{L}\p{N}]+ are greedy runs of one class.
        len = 1;
        while (pos + len < n && Classify(word[pos + len]) == cls) ++len;
      } else if (cls == CharClass::kNumber) {
        len = 1;  // [\p{N}] takes one digit at a time
      } else {
        ++pos;  // findall skips what nothing matches
        continue;
      }
    }
    pieces.push_back(word.substr(pos, len));
    pos += len;
  }
  return pieces;
}

}  // namespace reelfarm::pipeline
