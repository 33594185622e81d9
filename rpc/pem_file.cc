#include "rpc/pem_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace reelfarm {

absl::StatusOr<std::string> ReadPemFile(const std::string& path,
                                        absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(what, ": cannot read ", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string pem = text.str();
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", path, " is not a PEM file"));
  }
  return pem;
}

absl::Status ReadOptionalPemFile(const std::string& path,
                                 absl::string_view what, std::string* pem) {
  if (path.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> text = ReadPemFile(path, what);
  if (!text.ok()) return text.status();
  *pem = *std::move(text);
  return absl::OkStatus();
}

}  // namespace reelfarm
