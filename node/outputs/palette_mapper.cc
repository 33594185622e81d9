#include "node/outputs/palette_mapper.h"

#include <algorithm>
#include <limits>

namespace reelfarm {
namespace {

constexpr int kCacheBits = 18;

int Square(int v) { return v * v; }

}  // namespace

PaletteMapper::PaletteMapper(std::vector<Rgb> palette)
    : palette_(std::move(palette)),
      cache_keys_(size_t{1} << kCacheBits, 0),
      cache_values_(size_t{1} << kCacheBits, 0) {
  if (palette_.empty()) palette_.push_back(Rgb{0, 0, 0});
  if (palette_.size() > 256) palette_.resize(256);
  by_green_.resize(palette_.size());
  for (size_t i = 0; i < palette_.size(); ++i) {
    by_green_[i] = static_cast<uint8_t>(i);
  }
  std::sort(by_green_.begin(), by_green_.end(), [this](uint8_t a, uint8_t b) {
    return palette_[a][1] < palette_[b][1];
  });
}

// Walks outwards from the entries nearest in green and stops once the green
// difference alone exceeds the best distance: a few entries instead of 256.
uint8_t PaletteMapper::Search(int r, int g, int b) const {
  const auto start = std::lower_bound(
      by_green_.begin(), by_green_.end(), g,
      [this](uint8_t i, int value) { return palette_[i][1] < value; });
  int best = std::numeric_limits<int>::max();
  uint8_t best_index = by_green_.front();
  auto consider = [&](uint8_t i) {
    const Rgb& c = palette_[i];
    const int d = Square(c[0] - r) + Square(c[1] - g) + Square(c[2] - b);
    if (d < best) {
      best = d;
      best_index = i;
    }
  };
  auto up = start;
  auto down = start;
  bool up_open = true, down_open = true;
  while (up_open || down_open) {
    if (up_open) {
      if (up == by_green_.end() || Square(palette_[*up][1] - g) >= best) {
        up_open = false;
      } else {
        consider(*up++);
      }
    }
    if (down_open) {
      if (down == by_green_.begin() ||
          Square(palette_[*(down - 1)][1] - g) >= best) {
        down_open = false;
      } else {
        consider(*--down);
      }
    }
  }
  return best_index;
}

uint8_t PaletteMapper::Nearest(int r, int g, int b) {
  const uint32_t key = 0x1000000u | uint32_t(r) << 16 | uint32_t(g) << 8 | b;
  // Multiplicative hash of the colour into the cache.
  const uint32_t slot = (key * 2654435761u) >> (32 - kCacheBits);
  if (cache_keys_[slot] == key) return cache_values_[slot];
  const uint8_t index = Search(r, g, b);
  cache_keys_[slot] = key;
  cache_values_[slot] = index;
  return index;
}

std::string PaletteMapper::MapFrame(const std::string& rgb, uint32_t width,
                                    uint32_t height, bool dither) {
  std::string out(size_t{width} * height, '\0');
  const auto* px = reinterpret_cast<const uint8_t*>(rgb.data());
  if (!dither) {
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] =
          static_cast<char>(Nearest(px[3 * i], px[3 * i + 1], px[3 * i + 2]));
    }
    return out;
  }
  // Floyd-Steinberg: errors in 1/16 units for this row and the next, with a
  // spare column on each side so the edges need no special case.
  std::vector<int> here(3 * (size_t{width} + 2), 0);
  std::vector<int> next(here.size(), 0);
  for (uint32_t y = 0; y < height; ++y) {
    std::fill(next.begin(), next.end(), 0);
    for (uint32_t x = 0; x < width; ++x) {
      const size_t i = size_t{y} * width + x;
      int want[3];
      for (int c = 0; c < 3; ++c) {
        const int e = here[3 * (x + 1) + c];
        want[c] =
            std::clamp(px[3 * i + c] + (e >= 0 ? e + 8 : e - 8) / 16, 0, 255);
      }
      const uint8_t index = Nearest(want[0], want[1], want[2]);
      out[i] = static_cast<char>(index);
      for (int c = 0; c < 3; ++c) {
        const int err = want[c] - palette_[index][c];
        here[3 * (x + 2) + c] += err * 7;
        next[3 * x + c] += err * 3;
        next[3 * (x + 1) + c] += err * 5;
        next[3 * (x + 2) + c] += err * 1;
      }
    }
    std::swap(here, next);
  }
  return out;
}

}  // namespace reelfarm
