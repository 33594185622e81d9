#ifndef REELFARM_NODE_OUTPUTS_MP4_WRITER_H_
#define REELFARM_NODE_OUTPUTS_MP4_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "node/renderers/renderer.h"

namespace reelfarm {

// Encodes `video` as H.264 (yuv420p, so every player takes it) at `fps`
// with x264's `crf` into `path` by piping raw RGB frames to the ffmpeg
// program at `ffmpeg`, then fsyncs the file. Odd sizes are padded by one
// pixel (4:2:0 needs even ones).
absl::Status WriteMp4(const Video& video, uint32_t fps, uint32_t crf,
                      const std::string& ffmpeg, const std::string& path);

}  // namespace reelfarm

#endif  // REELFARM_NODE_OUTPUTS_MP4_WRITER_H_
