#include "node/pipeline/animatediff/unicode_text.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include <cstdint>

namespace reelfarm::pipeline {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// transformers' _is_control: \t \n \r are whitespace, not control; every
// other "C*" category (Cc, Cf, Cs, Co, Cn) is dropped.
bool IsBertControl(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  if (cp < 0x80) return cp < 0x20 || cp == 0x7F;
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
    case U_UNASSIGNED:
      return true;
    default:
      break;
  }
  // Assigned after Python's Unicode version: "Cn" to Python, so dropped.
  UVersionInfo age;
  u_charAge(static_cast<UChar32>(cp), age);
  return age[0] > kPythonUnicodeMajor ||
         (age[0] == kPythonUnicodeMajor && age[1] > kPythonUnicodeMinor);
}

// transformers' _is_whitespace: space, \t, \n, \r and category Zs.
bool IsBertWhitespace(char32_t cp) {
  if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') return true;
  if (cp < 0x80) return false;
  return u_charType(static_cast<UChar32>(cp)) == U_SPACE_SEPARATOR;
}

// BasicTokenizer._is_chinese_char: the CJK ideograph blocks it lists (not
// Hiragana, Katakana or Hangul, which are space-separated scripts).
bool IsCjkIdeograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

std::u16string ToUtf16(std::u32string_view text) {
  std::u16string out;
  out.reserve(text.size());
  for (char32_t cp : text) {
    if (cp <= 0xFFFF) {
      out.push_back(static_cast<char16_t>(cp));
    } else {
      out.push_back(static_cast<char16_t>(U16_LEAD(cp)));
      out.push_back(static_cast<char16_t>(U16_TRAIL(cp)));
    }
  }
  return out;
}

std::u32string ToUtf32(const std::u16string& text) {
  std::u32string out;
  out.reserve(text.size());
  const int32_t n = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < n;) {
    UChar32 cp;
    U16_NEXT(text.data(), i, n, cp);
    out.push_back(static_cast<char32_t>(cp));
  }
  return out;
}

// Runs an ICU "write into a buffer, report the needed size" function,
// growing the buffer once when it was too small. Returns false on an ICU
// error (missing data), which UnicodeSupportWorks reports at load time.
template <typename Fn>
bool CallIcu(const std::u16string& src, std::u16string* dst, Fn fn) {
  dst->resize(src.size() + 16);
  UErrorCode err = U_ZERO_ERROR;
  int32_t n = fn(dst, &err);
  if (err == U_BUFFER_OVERFLOW_ERROR) {
    dst->resize(static_cast<size_t>(n));
    err = U_ZERO_ERROR;
    n = fn(dst, &err);
  }
  if (U_FAILURE(err)) return false;
  dst->resize(static_cast<size_t>(n));
  return true;
}

// unicodedata.normalize("NFC", text). Strings of code points below U+0300
// are always NFC (none decomposes or composes), which covers ASCII prompts.
std::u32string NormalizeNfc(std::u32string text) {
  bool simple = true;
  for (char32_t cp : text) simple = simple && cp < 0x300;
  if (simple) return text;
  UErrorCode err = U_ZERO_ERROR;
  const UNormalizer2* nfc = unorm2_getNFCInstance(&err);
  if (U_FAILURE(err)) return text;  // no ICU data: see the header's note
  const std::u16string src = ToUtf16(text);
  std::u16string dst;
  const bool ok = CallIcu(src, &dst, [&](std::u16string* d, UErrorCode* e) {
    return unorm2_normalize(nfc, src.data(), static_cast<int32_t>(src.size()),
                            d->data(), static_cast<int32_t>(d->size()), e);
  });
  return ok ? ToUtf32(dst) : text;
}

}  // namespace

std::u32string DecodeUtf8Lossy(absl::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t b = static_cast<uint8_t>(bytes[i]);
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    // Lead byte: number of continuation bytes, payload bits and the allowed
    // range of the first continuation byte (rules out overlong forms,
    // surrogates and code points past U+10FFFF).
    int need = 0;
    char32_t cp = 0;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
      cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      cp = b & 0x0F;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      cp = b & 0x07;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    size_t j = i + 1;
    bool ok = true;
    for (int k = 0; k < need; ++k, ++j) {
      const uint8_t c = j < n ? static_cast<uint8_t>(bytes[j]) : 0;
      if (j >= n || c < (k == 0 ? lo : 0x80) || c > (k == 0 ? hi : 0xBF)) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (c & 0x3F);
    }
    // A bad sequence is replaced as one unit: its lead and the continuation
    // bytes that were still valid (the "maximal subpart").
    out.push_back(ok ? cp : kReplacement);
    i = j;
  }
  return out;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string EncodeUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) AppendUtf8(cp, &out);
  return out;
}

bool IsPythonWhitespace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) ||
         cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

std::u32string_view StripPython(std::u32string_view text, bool left,
                                bool right) {
  size_t begin = 0, end = text.size();
  while (left && begin < end && IsPythonWhitespace(text[begin])) ++begin;
  while (right && end > begin && IsPythonWhitespace(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

std::vector<std::u32string> BasicTokenizeWords(std::u32string_view text) {
  // _clean_text and _tokenize_chinese_chars both act per character, so one
  // pass does both.
  std::u32string cleaned;
  cleaned.reserve(text.size());
  for (char32_t cp : text) {
    if (cp == 0 || cp == kReplacement || IsBertControl(cp)) continue;
    if (IsBertWhitespace(cp)) {
      cleaned.push_back(' ');
    } else if (IsCjkIdeograph(cp)) {
      cleaned.push_back(' ');
      cleaned.push_back(cp);
      cleaned.push_back(' ');
    } else {
      cleaned.push_back(cp);
    }
  }
  // NFC runs on the whole text before the split, as in BasicTokenizer.
  const std::u32string normalized = NormalizeNfc(std::move(cleaned));
  std::vector<std::u32string> words;
  size_t i = 0;
  const size_t n = normalized.size();
  while (i < n) {
    while (i < n && IsPythonWhitespace(normalized[i])) ++i;
    size_t j = i;
    while (j < n && !IsPythonWhitespace(normalized[j])) ++j;
    if (j > i) words.emplace_back(normalized.substr(i, j - i));
    i = j;
  }
  return words;
}

std::u32string LowerPython(std::u32string_view text) {
  bool ascii = true;
  for (char32_t cp : text) ascii = ascii && cp < 0x80;
  if (ascii) {
    std::u32string out(text);
    for (char32_t& cp : out) {
      if (cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
    }
    return out;
  }
  const std::u16string src = ToUtf16(text);
  std::u16string dst;
  // "" is ICU's root locale: no Turkish/Lithuanian tailoring, like Python.
  const bool ok = CallIcu(src, &dst, [&](std::u16string* d, UErrorCode* e) {
    return u_strToLower(d->data(), static_cast<int32_t>(d->size()), src.data(),
                        static_cast<int32_t>(src.size()), "", e);
  });
  return ok ? ToUtf32(dst) : std::u32string(text);
}

bool UnicodeSupportWorks() {
  const std::vector<std::u32string> words = BasicTokenizeWords(U"e\u0301");
  return words.size() == 1 && words[0] == U"\u00e9" &&
         LowerPython(U"\u0130\u03a3") == U"i\u0307\u03c2";
}

}  // namespace reelfarm::pipeline
