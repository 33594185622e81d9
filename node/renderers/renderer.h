#ifndef REELFARM_NODE_RENDERERS_RENDERER_H_
#define REELFARM_NODE_RENDERERS_RENDERER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm::pipeline::comm {
class Communicator;
}  // namespace reelfarm::pipeline::comm

namespace reelfarm {

// A rendered clip: `frames` RGB8 images, each width*height*3 bytes, rows top
// to bottom.
struct Video {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<std::string> frames;
};

// What a renderer may ask of the lane running it.
class RenderContext {
 public:
  virtual ~RenderContext() = default;
  // True once the job's lease is lost or the node stops: give up early.
  virtual bool Cancelled() const = 0;
  // 0..1 of the current job; sent to the coordinator with heartbeats.
  virtual void ReportProgress(double fraction) = 0;
  // The same for one of the lane's devices (by position in
  // RenderEnvironment::devices) when a job renders on several; safe to call
  // from the devices' threads at once.
  // Contexts that do not track devices ignore it.
  virtual void ReportDeviceProgress(size_t /*device*/, double /*fraction*/) {}
};

// Turns one job into frames. A renderer instance belongs to one lane (its
// devices) and may keep models loaded between jobs.
class Renderer {
 public:
  virtual ~Renderer() = default;
  // InvalidArgument / Unimplemented mean retrying elsewhere cannot help.
  virtual absl::StatusOr<Video> Render(const v1::Job& job,
                                       RenderContext& context) = 0;
};

// Where and how a lane renders.
struct RenderEnvironment {
  // The lane's devices, "cpu" or "cuda:N": a job that asks for several
  // devices (devices_per_video) renders on up to this many at once.
  std::vector<v1::Device> devices;
  // Set when this process is one rank of a process group (ProcessGroup):
  // every job renders on all of the group's ranks, this one on devices[0].
  pipeline::comm::Communicator* group = nullptr;
  int cpu_threads = 0;             // libtorch intra-op threads; 0: default
  std::string precision = "fp32";  // model weights: fp32, fp16 or bf16
};

// The renderer a job names (job.renderer().name()) for a lane.
absl::StatusOr<std::unique_ptr<Renderer>> MakeRenderer(
    const v1::RendererOptions& options, const RenderEnvironment& environment);

}  // namespace reelfarm

#endif  // REELFARM_NODE_RENDERERS_RENDERER_H_
