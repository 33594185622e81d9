// Time and size of a clip's GIF (with and without dithering) and MP4 at
// AnimateDiff's usual size, from smooth-but-busy synthetic frames.
//
//   build/bench/clip_encode_bench [W H L]     (default 512 512 16)

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/time/clock.h"
#include "common/find_program.h"
#include "node/outputs/gif_writer.h"
#include "node/outputs/mp4_writer.h"

int main(int argc, char** argv) {
  const uint32_t w = argc > 3 ? std::atoi(argv[1]) : 512;
  const uint32_t h = argc > 3 ? std::atoi(argv[2]) : 512;
  const uint32_t frames = argc > 3 ? std::atoi(argv[3]) : 16;
  reelfarm::Video video{w, h, {}};
  for (uint32_t f = 0; f < frames; ++f) {
    std::string rgb(size_t{w} * h * 3, '\0');
    for (uint32_t y = 0; y < h; ++y) {
      for (uint32_t x = 0; x < w; ++x) {
        const double t = f * 0.3;
        const size_t i = (size_t{y} * w + x) * 3;
        rgb[i] = static_cast<char>(127 + 127 * std::sin(x * 0.03 + t));
        rgb[i + 1] = static_cast<char>(127 + 127 * std::sin(y * 0.02 - t));
        rgb[i + 2] = static_cast<char>(127 + 127 * std::sin((x + y) * 0.01));
      }
    }
    video.frames.push_back(std::move(rgb));
  }
  std::printf("clip %ux%u, %u frames\n", w, h, frames);
  for (bool dither : {false, true}) {
    const absl::Time start = absl::Now();
    auto gif = reelfarm::EncodeAnimatedGif(video, 8, dither);
    const double s = absl::ToDoubleSeconds(absl::Now() - start);
    if (!gif.ok()) return 1;
    std::printf("gif %-9s %8.3f s %10zu bytes\n", dither ? "dithered" : "plain",
                s, gif->size());
  }
  auto ffmpeg = reelfarm::FindFfmpeg();
  if (!ffmpeg.ok()) {
    std::printf("mp4: %s\n", std::string(ffmpeg.status().message()).c_str());
    return 0;
  }
  const std::string path =
      (std::filesystem::temp_directory_path() / "reelfarm_bench.mp4").string();
  const absl::Time start = absl::Now();
  absl::Status st = reelfarm::WriteMp4(video, 8, 18, *ffmpeg, path);
  const double s = absl::ToDoubleSeconds(absl::Now() - start);
  if (!st.ok()) {
    std::printf("mp4: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::printf("mp4 crf 18    %8.3f s %10ju bytes\n", s,
              static_cast<uintmax_t>(std::filesystem::file_size(path)));
  std::filesystem::remove(path);
  return 0;
}
