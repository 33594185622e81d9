#include "node/animatediff_renderer.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/context_settings.h"
#include "common/log.h"
#include "node/inference_config.h"
#include "node/pipeline/animatediff_pipeline.h"

namespace reelfarm {
namespace {

std::string LoraKey(const v1::LoraRef& lora) {
  // The exact scale: LoRAs at 0.8 and 0.8000001 are different weights.
  return absl::StrFormat("%s#%s@%a", lora.model().path(), lora.model().digest(),
                         lora.alpha());
}

// What identifies the loaded weights: LoRAs are merged into them, so each
// file and its scale is part of the key.
std::string ModelKey(const v1::ModelSet& m) {
  std::string key = absl::StrCat(
      m.base().digest(), "|", m.motion_module().digest(), "|",
      m.dreambooth().digest(), "|", m.inference_config().digest(), "|",
      m.adapter_lora().model().path().empty() ? "" : LoraKey(m.adapter_lora()));
  for (const v1::LoraRef& lora : m.loras()) {
    absl::StrAppend(&key, "|lora:", LoraKey(lora));
  }
  for (const v1::LoraRef& lora : m.motion_loras()) {
    absl::StrAppend(&key, "|motion_lora:", LoraKey(lora));
  }
  return key;
}

// (F, 3, H, W) floats in [0, 1] -> RGB8 frames, rounding as diffusers'
// numpy_to_pil does.
Video ToVideo(const torch::Tensor& frames) {
  Video video;
  video.height = static_cast<uint32_t>(frames.size(2));
  video.width = static_cast<uint32_t>(frames.size(3));
  torch::Tensor bytes = (frames * 255)
                            .round()
                            .clamp(0, 255)
                            .to(torch::kUInt8)
                            .permute({0, 2, 3, 1})
                            .contiguous();
  for (int64_t f = 0; f < bytes.size(0); ++f) {
    torch::Tensor frame = bytes[f];
    video.frames.emplace_back(reinterpret_cast<const char*>(frame.data_ptr()),
                              frame.numel());
  }
  return video;
}

}  // namespace

AnimateDiffRenderer::AnimateDiffRenderer(const RenderEnvironment& environment)
    : device_(environment.device.name()), precision_(environment.precision) {
  if (environment.cpu_threads > 0) {
    torch::set_num_threads(environment.cpu_threads);
  }
}

absl::Status AnimateDiffRenderer::EnsureModels(const v1::ModelSet& models) {
  const std::string key = ModelKey(models);
  if (bundle_ != nullptr && key == loaded_key_) return absl::OkStatus();
  bundle_.reset();  // free the old set before loading the next
  pipeline::ModelSources sources;
  sources.base = models.base().path();
  sources.motion_module = models.motion_module().path();
  sources.dreambooth = models.dreambooth().path();
  for (const v1::LoraRef& lora : models.loras()) {
    sources.loras.emplace_back(lora.model().path(), lora.alpha());
  }
  for (const v1::LoraRef& lora : models.motion_loras()) {
    sources.motion_loras.emplace_back(lora.model().path(), lora.alpha());
  }
  if (!models.adapter_lora().model().path().empty()) {
    sources.adapter_lora.emplace(models.adapter_lora().model().path(),
                                 models.adapter_lora().alpha());
  }
  if (!models.inference_config().path().empty()) {
    absl::StatusOr<InferenceConfig> inference =
        LoadInferenceConfig(models.inference_config().path());
    if (!inference.ok()) return inference.status();
    sources.motion_config = inference->motion;
    scheduler_config_ = inference->scheduler;
  } else {
    scheduler_config_.reset();
  }
  const size_t lora_count = sources.loras.size() + sources.motion_loras.size() +
                            (sources.adapter_lora.has_value() ? 1 : 0);
  LogInfo("loading models: ", sources.base,
          sources.motion_module.empty() ? "" : " + ", sources.motion_module,
          sources.dreambooth.empty() ? "" : " + ", sources.dreambooth,
          lora_count == 0 ? "" : absl::StrCat(" + ", lora_count, " LoRA(s)"));
  absl::StatusOr<std::unique_ptr<pipeline::ModelBundle>> bundle =
      pipeline::LoadModelBundle(sources);
  if (!bundle.ok()) {
    // A model that does not load fails the same way everywhere.
    return absl::InvalidArgumentError(bundle.status().message());
  }
  absl::StatusOr<torch::ScalarType> dtype =
      pipeline::ParsePrecision(precision_);
  if (!dtype.ok()) return dtype.status();
  const torch::Device device(device_);
  (*bundle)->To(device, *dtype, /*channels_last=*/device.is_cuda());
  bundle_ = *std::move(bundle);
  loaded_key_ = key;
  return absl::OkStatus();
}

absl::StatusOr<Video> AnimateDiffRenderer::Render(const v1::Job& job,
                                                  RenderContext& context) {
  const v1::RenderParams& p = job.params();
  if (absl::Status st = EnsureModels(p.models()); !st.ok()) return st;
  pipeline::VideoRequest request;
  request.prompt = p.prompt();
  request.negative_prompt = p.negative_prompt();
  request.seed = p.seed();
  request.width = p.width();
  request.height = p.height();
  request.frames = p.frames();
  request.steps = p.steps();
  request.guidance_scale = p.guidance_scale();
  request.scheduler = p.scheduler().empty() ? "ddim" : p.scheduler();
  request.scheduler_config = scheduler_config_;
  const ContextSettings ctx = ContextSettingsOf(p);
  request.context.length = ctx.length;
  request.context.stride = ctx.stride;
  absl::StatusOr<pipeline::ContextFuse> fuse =
      pipeline::ParseContextFuse(ctx.fuse);
  if (!fuse.ok()) return fuse.status();
  request.context.fuse = *fuse;
  request.context.loop = ctx.loop;
  request.context.free_noise = ctx.free_noise;
  if (DevicesPerVideo(p) > 1) {
    // This lane has one device: the windows run here in turn, which gives
    // the video a device group would (up to float rounding).
    LogInfo("job ", job.id(), " asks for ", DevicesPerVideo(p),
            " devices per video; rendering its windows on ", device_);
  }
  pipeline::PipelineHooks hooks;
  hooks.progress = [&](int64_t step, int64_t steps) {
    context.ReportProgress(static_cast<double>(step) / (steps + 1));
  };
  hooks.cancelled = [&] { return context.Cancelled(); };
  absl::StatusOr<torch::Tensor> frames;
  try {
    frames = pipeline::RenderVideo(*bundle_, request, hooks);
  } catch (const c10::Error& e) {
    // Out of memory and friends: another node may manage.
    return absl::ResourceExhaustedError(e.what_without_backtrace());
  }
  if (!frames.ok()) return frames.status();
  context.ReportProgress(1.0);
  return ToVideo(*frames);
}

}  // namespace reelfarm
