#include "node/renderers/test_pattern_renderer.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "node/renderers/device_group.h"

namespace reelfarm {
namespace {

// Sleeps `ms` in slices so a lost lease stops it promptly; false if it did.
// Reports progress on `ranks` devices (none when 0).
bool SimulateWork(uint32_t ms, RenderContext& context, int ranks) {
  const auto start = std::chrono::steady_clock::now();
  const auto budget = std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() - start < budget) {
    if (context.Cancelled()) return false;
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const double fraction = std::chrono::duration<double>(elapsed) / budget;
    if (ranks == 1) context.ReportProgress(fraction);
    for (int r = 0; ranks > 1 && r < ranks; ++r) {
      context.ReportDeviceProgress(r, fraction);
    }
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(
        budget - elapsed, std::chrono::milliseconds(5)));
  }
  return true;
}

}  // namespace

absl::StatusOr<Video> TestPatternRenderer::Render(const v1::Job& job,
                                                  RenderContext& context) {
  const v1::RenderParams& p = job.params();
  if (p.width() == 0 || p.height() == 0 || p.frames() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("job ", job.id(), " has an empty frame size"));
  }
  // A real pipeline loads its weights once, on its first job.
  if (!loaded_) {
    if (!SimulateWork(load_ms_, context, /*ranks=*/0)) {
      return absl::CancelledError("lease lost");
    }
    loaded_ = true;
  }
  if (!SimulateWork(ms_per_job_, context, RanksFor(p, devices_))) {
    return absl::CancelledError("lease lost");
  }

  // Colours from the prompt's hash, motion from the seed: different jobs
  // look different, the same job always looks the same.
  const std::string h = Sha256Hex(absl::StrCat(p.prompt(), "\n", p.seed()));
  const auto byte = [&](int i) {
    return static_cast<uint8_t>(std::stoi(h.substr(2 * i, 2), nullptr, 16));
  };
  const uint8_t red = byte(0), green = byte(1), blue = byte(2);
  Video video;
  video.width = p.width();
  video.height = p.height();
  const uint32_t speed = 1 + p.seed() % 7;
  for (uint32_t f = 0; f < p.frames(); ++f) {
    std::string rgb(static_cast<size_t>(p.width()) * p.height() * 3, '\0');
    for (uint32_t y = 0; y < p.height(); ++y) {
      for (uint32_t x = 0; x < p.width(); ++x) {
        const size_t o = (static_cast<size_t>(y) * p.width() + x) * 3;
        const uint32_t band = ((x + f * speed) / 8 + y / 8) % 2;
        rgb[o] = static_cast<char>(band ? red : 255 - red);
        rgb[o + 1] = static_cast<char>((y * 255) / p.height() ^ green);
        rgb[o + 2] = static_cast<char>((x * 255) / p.width() ^ blue);
      }
    }
    video.frames.push_back(std::move(rgb));
  }
  context.ReportProgress(1.0);
  return video;
}

}  // namespace reelfarm
