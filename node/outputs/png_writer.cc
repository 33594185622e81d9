#include "node/outputs/png_writer.h"

#include <png.h>

#include <csetjmp>

namespace reelfarm {
namespace {

void AppendToString(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}

void NoFlush(png_structp) {}

}  // namespace

absl::StatusOr<std::string> EncodePng(
    uint32_t width, uint32_t height, const std::string& rgb,
    const std::vector<std::pair<std::string, std::string>>& text) {
  if (rgb.size() != static_cast<size_t>(width) * height * 3) {
    return absl::InvalidArgumentError("RGB buffer size does not match");
  }
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return absl::ResourceExhaustedError("png_create_write");
  png_infop info = png_create_info_struct(png);
  std::string out;
  std::vector<png_text> chunks(text.size());
  // libpng reports errors by longjmp; nothing with a destructor lives between
  // here and the end of the encode except `out` and `chunks`, made above.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return absl::InternalError("libpng failed to encode");
  }
  png_set_write_fn(png, &out, &AppendToString, &NoFlush);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  for (size_t i = 0; i < text.size(); ++i) {
    chunks[i].compression = PNG_TEXT_COMPRESSION_NONE;
    chunks[i].key = const_cast<char*>(text[i].first.c_str());
    chunks[i].text = const_cast<char*>(text[i].second.c_str());
    chunks[i].text_length = text[i].second.size();
  }
  if (!chunks.empty()) {
    png_set_text(png, info, chunks.data(), static_cast<int>(chunks.size()));
  }
  png_set_compression_level(png, 6);
  png_write_info(png, info);
  for (uint32_t y = 0; y < height; ++y) {
    png_write_row(png, reinterpret_cast<png_const_bytep>(
                           rgb.data() + static_cast<size_t>(y) * width * 3));
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace reelfarm
