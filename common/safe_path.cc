#include "common/safe_path.h"

#include <array>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;

// Decodes one UTF-8 sequence at text[i]; returns its length (0 when it is
// invalid: truncated, overlong, a surrogate or past U+10FFFF).
size_t DecodeUtf8(absl::string_view text, size_t i, char32_t* cp) {
  const auto byte = [&](size_t k) {
    return static_cast<unsigned char>(text[i + k]);
  };
  const unsigned char b0 = byte(0);
  size_t len = 0;
  char32_t min = 0;
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, *cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, *cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, *cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (byte(k) & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

// Control characters, and the invisible marks that make a name display
// differently from what it is (bidirectional overrides, BOM).
bool IsControl(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x200E ||
         cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

// Characters NTFS and SMB refuse, and the separators of both worlds.
bool IsForbiddenAscii(char32_t cp) {
  switch (cp) {
    case '/':
    case '\\':
    case '<':
    case '>':
    case ':':
    case '"':
    case '|':
    case '?':
    case '*':
      return true;
    default:
      return false;
  }
}

// What SafePathComponent keeps as it is.
bool IsKept(char32_t cp) {
  if (cp >= 0x80) return !IsControl(cp);
  const char c = static_cast<char>(cp);
  return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.' ||
         c == '+' || c == '=' || c == '@' || c == ',' || c == ' ';
}

bool IsDeviceName(absl::string_view name) {
  // Windows ignores the extension: "nul.txt" is the null device too.
  const absl::string_view base = name.substr(0, name.find('.'));
  static constexpr std::array<const char*, 6> kFixed = {
      "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"};
  for (const char* d : kFixed) {
    if (absl::EqualsIgnoreCase(base, d)) return true;
  }
  if (base.size() == 4 && absl::ascii_isdigit(base[3]) && base[3] != '0') {
    const absl::string_view stem = base.substr(0, 3);
    return absl::EqualsIgnoreCase(stem, "COM") ||
           absl::EqualsIgnoreCase(stem, "LPT");
  }
  return false;
}

// Drops whole UTF-8 sequences from the end until `s` fits in `max` bytes.
void TruncateUtf8(std::string* s, size_t max) {
  if (s->size() <= max) return;
  size_t end = max;
  // Back up over continuation bytes to the start of the cut sequence.
  while (end > 0 && (static_cast<unsigned char>((*s)[end]) & 0xC0) == 0x80) {
    --end;
  }
  s->resize(end);
}

void StripTrailing(std::string* s) {
  while (!s->empty() &&
         (s->back() == '.' || s->back() == ' ' || s->back() == '-')) {
    s->pop_back();
  }
}

}  // namespace

bool IsSafePathComponent(absl::string_view name) {
  if (name.empty() || name.size() > kMaxComponentBytes) return false;
  if (name.front() == '.' || name.front() == '-') return false;  // ".", ".."
  if (name.back() == '.' || name.back() == ' ') return false;
  for (size_t i = 0; i < name.size();) {
    char32_t cp = 0;
    const size_t len = DecodeUtf8(name, i, &cp);
    if (len == 0 || IsControl(cp) || IsForbiddenAscii(cp)) return false;
    i += len;
  }
  return !IsDeviceName(name);
}

std::string SafePathComponent(absl::string_view text, size_t max_bytes,
                              absl::string_view fallback) {
  if (max_bytes > kMaxComponentBytes) max_bytes = kMaxComponentBytes;
  std::string out;
  bool gap = false;
  for (size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    size_t len = DecodeUtf8(text, i, &cp);
    const bool kept = len > 0 && IsKept(cp);
    if (len == 0) len = 1;  // skip one invalid byte
    const absl::string_view piece = text.substr(i, len);
    i += len;
    // Leading dots, dashes and spaces would hide the file or read as a flag.
    if (!kept || (out.empty() && (cp == '.' || cp == '-' || cp == ' '))) {
      gap = true;
      continue;
    }
    const size_t need = piece.size() + (gap && !out.empty() ? 1 : 0);
    if (out.size() + need > max_bytes) break;
    if (gap && !out.empty()) out.push_back('-');
    out.append(piece.data(), piece.size());
    gap = false;
  }
  StripTrailing(&out);
  if (IsDeviceName(out)) {
    out.insert(0, "_");
    TruncateUtf8(&out, max_bytes);
    StripTrailing(&out);
  }
  if (!IsSafePathComponent(out)) return std::string(fallback);
  return out;
}

bool IsPlainAbsolutePath(absl::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return false;
  }
  for (const fs::path& part : fs::path(std::string(path))) {
    if (part == "..") return false;
  }
  return true;
}

absl::StatusOr<fs::path> PathInside(const fs::path& root,
                                    absl::string_view name) {
  if (!root.is_absolute()) {
    return absl::InvalidArgumentError(
        absl::StrCat("output folder '", root.string(), "' is not absolute"));
  }
  if (!IsSafePathComponent(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("refusing unsafe output name '", absl::CHexEscape(name),
                     "': it must be one plain file or folder name"));
  }
  fs::path base = root.lexically_normal();
  if (base.has_relative_path() && base.filename().empty()) {
    base = base.parent_path();  // "/out/" -> "/out"
  }
  const fs::path full = (base / std::string(name)).lexically_normal();
  const fs::path rel = full.lexically_relative(base);
  if (rel.empty() || std::distance(rel.begin(), rel.end()) != 1 || rel == "." ||
      rel == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("output name '", absl::CHexEscape(name),
                     "' resolves outside ", base.string()));
  }
  return full;
}

}  // namespace reelfarm
