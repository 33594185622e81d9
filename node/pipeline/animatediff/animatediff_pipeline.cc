#include "node/pipeline/animatediff/animatediff_pipeline.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "node/pipeline/video/free_noise.h"
#include "node/pipeline/video/frame_split.h"
#include "node/pipeline/schedulers/scheduler_factory.h"
#include "node/pipeline/video/windowed_denoiser.h"

namespace reelfarm::pipeline {
namespace {

torch::Tensor EncodeText(ModelBundle& models, const std::string& text,
                         const torch::Device& device) {
  const std::vector<int64_t> ids = models.tokenizer->Encode(text);
  torch::Tensor input =
      torch::tensor(ids, torch::kLong).unsqueeze(0).to(device);
  return models.text_encoder->forward(input);
}

absl::Status CheckRequest(const VideoRequest& r) {
  if (r.width <= 0 || r.height <= 0 || r.width % 8 || r.height % 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("width and height must be positive multiples of 8, got ",
                     r.width, "x", r.height));
  }
  if (r.frames < 1 || r.steps < 1) {
    return absl::InvalidArgumentError("frames and steps must be at least 1");
  }
  return CheckContextOptions(r.context);
}

// Whether to stop: with a device group, any rank's cancel stops all ranks
// at the same step (a rank that left alone would hang the others).
absl::StatusOr<bool> Cancelled(const PipelineHooks& hooks,
                               comm::Communicator* comm,
                               const torch::Device& device) {
  bool cancelled = hooks.cancelled && hooks.cancelled();
  if (comm == nullptr || comm->size() == 1) return cancelled;
  torch::Tensor flag =
      torch::full({1}, cancelled ? 1.0f : 0.0f, torch::kFloat32).to(device);
  if (absl::Status st = comm->AllReduceSum(flag); !st.ok()) return st;
  return flag.item<float>() > 0;
}

}  // namespace

absl::StatusOr<torch::Tensor> RenderVideo(ModelBundle& models,
                                          const VideoRequest& request,
                                          const PipelineHooks& hooks,
                                          comm::Communicator* comm) {
  if (absl::Status st = CheckRequest(request); !st.ok()) return st;
  if (!models.unet->has_motion() && request.frames > 1) {
    return absl::InvalidArgumentError(
        "rendering several frames needs a motion_module");
  }
  absl::StatusOr<SchedulerConfig> scheduler_config = ParseSchedulerConfig(
      request.scheduler_config.value_or(models.scheduler_config));
  if (!scheduler_config.ok()) return scheduler_config.status();
  absl::StatusOr<std::unique_ptr<Scheduler>> scheduler =
      MakeScheduler(request.scheduler, *scheduler_config);
  if (!scheduler.ok()) return scheduler.status();
  if (absl::Status st = (*scheduler)->SetTimesteps(request.steps); !st.ok()) {
    return st;
  }

  torch::NoGradGuard no_grad;
  const torch::Tensor probe = models.unet->parameters().front();
  const torch::Device device = probe.device();
  // The UNet runs in its weights' precision; the scheduler's arithmetic
  // stays in float32.
  const torch::ScalarType dtype = probe.scalar_type();
  const bool guided = request.guidance_scale > 1.0;
  torch::Tensor positive = EncodeText(models, request.prompt, device);
  torch::Tensor context = positive;
  if (guided) {
    torch::Tensor negative =
        EncodeText(models, request.negative_prompt, device);
    context = torch::cat({negative, positive}, 0);
    if (hooks.trace) hooks.trace->negative_prompt_embeds = negative;
  }
  if (hooks.trace) hooks.trace->prompt_embeds = positive;
  context = context.to(dtype);

  // One draw on a CPU generator, as diffusers' prepare_latents with a CPU
  // generator: the same noise whatever device renders.
  at::Generator generator = at::detail::createCPUGenerator(request.seed);
  const int64_t channels = models.unet->config().in_channels;
  torch::Tensor noise = torch::randn(
      {1, channels, request.frames, request.height / 8, request.width / 8},
      generator, torch::kFloat32);
  if (request.context.free_noise) {
    ShuffleNoiseInWindows(noise, request.context.length, request.context.stride,
                          generator);
  }
  // Frame-split: every rank computes every window (its slice of each), so
  // the windows are not divided among the ranks.
  comm::Communicator* frame_comm =
      request.split_frames && comm != nullptr && comm->size() > 1 ? comm
                                                                  : nullptr;
  absl::StatusOr<WindowedDenoiser> denoiser = WindowedDenoiser::Create(
      request.frames, request.context, frame_comm != nullptr ? nullptr : comm);
  if (!denoiser.ok()) return denoiser.status();
  if (hooks.trace) {
    hooks.trace->initial_noise = noise;
    hooks.trace->timesteps = (*scheduler)->timesteps();
  }
  torch::Tensor latents = (noise * (*scheduler)->init_noise_sigma()).to(device);

  const int64_t steps = (*scheduler)->num_steps();
  for (int64_t i = 0; i < steps; ++i) {
    absl::StatusOr<bool> cancelled = Cancelled(hooks, comm, device);
    if (!cancelled.ok()) return cancelled.status();
    if (*cancelled) return absl::CancelledError("render cancelled");
    torch::Tensor input = guided ? torch::cat({latents, latents}, 0) : latents;
    absl::StatusOr<torch::Tensor> scaled =
        (*scheduler)->ScaleModelInput(input, i);
    if (!scaled.ok()) return scaled.status();
    const torch::Tensor t = (*scheduler)->timesteps()[i];
    // The split UNet reports a failed collective by exception; its status
    // is kept when known.
    absl::Status failure;
    const NoisePredictor predict = [&](const torch::Tensor& x) {
      const int64_t window = x.size(2);
      if (frame_comm == nullptr || window < frame_comm->size()) {
        return models.unet->forward(x.to(dtype), t, context)
            .to(torch::kFloat32);
      }
      const FrameSplit split = MakeFrameSplit(frame_comm, window);
      const int64_t count =
          FrameSliceOf(window, frame_comm->size(), frame_comm->rank()).count;
      torch::Tensor slice = models.unet
                                ->forward(x.slice(2, split.frame_offset,
                                                  split.frame_offset + count)
                                              .to(dtype),
                                          t, context, nullptr, &split)
                                .to(torch::kFloat32);
      absl::StatusOr<torch::Tensor> whole = GatherFrames(slice, 2, split);
      if (!whole.ok()) failure = whole.status();
      return ValueOrThrow(std::move(whole));
    };
    absl::StatusOr<torch::Tensor> fused;
    try {
      fused = denoiser->Predict(*scaled, predict);
    } catch (const c10::Error& e) {
      if (frame_comm == nullptr) throw;
      if (!failure.ok()) return failure;
      return absl::InternalError(
          absl::StrCat("UNet failed: ", e.what_without_backtrace()));
    }
    if (!fused.ok()) return fused.status();
    torch::Tensor noise_pred = *std::move(fused);
    if (hooks.trace) hooks.trace->unet_out.push_back(noise_pred);
    if (guided) {
      std::vector<torch::Tensor> parts = noise_pred.chunk(2, 0);
      noise_pred = parts[0] + request.guidance_scale * (parts[1] - parts[0]);
    }
    absl::StatusOr<SchedulerStepOutput> step =
        (*scheduler)->Step(noise_pred, i, latents, &generator);
    if (!step.ok()) return step.status();
    latents = step->prev_sample;
    if (hooks.trace) hooks.trace->latents.push_back(latents);
    if (hooks.progress) hooks.progress(i + 1, steps);
  }
  torch::Tensor video =
      models.vae->DecodeVideo(latents, request.decode_chunk_size);
  return video[0].to(torch::kCPU);
}

}  // namespace reelfarm::pipeline
