#include "node/renderers/animatediff_renderer.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sweep/context_settings.h"
#include "common/log.h"
#include "node/renderers/inference_config.h"
#include "node/pipeline/animatediff/animatediff_pipeline.h"

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
    : group_(environment.devices),
      process_group_(environment.group),
      precision_(environment.precision) {
  if (environment.cpu_threads > 0) {
    torch::set_num_threads(environment.cpu_threads);
  }
}

absl::Status AnimateDiffRenderer::PrepareSources(const v1::ModelSet& models) {
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
  scheduler_config_.reset();
  if (!models.inference_config().path().empty()) {
    absl::StatusOr<InferenceConfig> inference =
        LoadInferenceConfig(models.inference_config().path());
    if (!inference.ok()) return inference.status();
    sources.motion_config = inference->motion;
    scheduler_config_ = inference->scheduler;
  }
  sources_ = std::move(sources);
  return absl::OkStatus();
}

absl::Status AnimateDiffRenderer::EnsureModels(const v1::ModelSet& models,
                                               int ranks) {
  const std::string key = ModelKey(models);
  if (key != loaded_key_) {
    bundles_.clear();  // free the old set before loading the next
    loaded_key_.clear();
    if (absl::Status st = PrepareSources(models); !st.ok()) return st;
    loaded_key_ = key;
  }
  absl::StatusOr<torch::ScalarType> dtype =
      pipeline::ParsePrecision(precision_);
  if (!dtype.ok()) return dtype.status();
  while (bundles_.size() < static_cast<size_t>(ranks)) {
    const std::string& device = group_.devices()[bundles_.size()].name();
    const pipeline::ModelSources& s = sources_;
    const size_t lora_count = s.loras.size() + s.motion_loras.size() +
                              (s.adapter_lora.has_value() ? 1 : 0);
    LogInfo("loading models on ", device, ": ", s.base,
            s.motion_module.empty() ? "" : " + ", s.motion_module,
            s.dreambooth.empty() ? "" : " + ", s.dreambooth,
            lora_count == 0 ? "" : absl::StrCat(" + ", lora_count, " LoRA(s)"));
    absl::StatusOr<std::unique_ptr<pipeline::ModelBundle>> bundle =
        pipeline::LoadModelBundle(s);
    if (!bundle.ok()) {
      // A model that does not load fails the same way everywhere.
      return absl::InvalidArgumentError(bundle.status().message());
    }
    const torch::Device target(device);
    (*bundle)->To(target, *dtype, /*channels_last=*/target.is_cuda());
    bundles_.push_back(*std::move(bundle));
  }
  return absl::OkStatus();
}

absl::Status AnimateDiffRenderer::AgreeOnLoad(const absl::Status& loaded) {
  // The collective runs where the group's communicator works: the GPU when
  // it is NCCL (every member has a usable GPU), else the host.
  const torch::Device local(group_.devices()[0].name());
  const torch::Device device =
      local.is_cuda() && torch::cuda::is_available() ? local : torch::kCPU;
  absl::Status agreed;
  try {
    torch::Tensor failed = torch::full({1}, loaded.ok() ? 0.0f : 1.0f,
                                       torch::TensorOptions().device(device));
    agreed = process_group_->AllReduceSum(failed);
    if (agreed.ok() && failed.item<float>() > 0) {
      // The same code on every member, so the group stays usable; the job
      // may load elsewhere (a member short of memory or of a file).
      agreed = absl::FailedPreconditionError(absl::StrCat(
          "the models did not load on every member of the process group",
          loaded.ok() ? "" : ": ", loaded.message()));
    }
  } catch (const c10::Error& e) {
    agreed = absl::UnavailableError(e.what_without_backtrace());
  }
  return agreed;
}

absl::StatusOr<Video> AnimateDiffRenderer::Render(const v1::Job& job,
                                                  RenderContext& context) {
  const v1::RenderParams& p = job.params();
  // In a process group this process is one rank of all of them.
  const int ranks =
      process_group_ != nullptr ? 1 : RanksFor(p, group_.devices().size());
  absl::Status loaded;
  try {
    loaded = EnsureModels(p.models(), ranks);
  } catch (const c10::Error& e) {
    // Out of memory moving the weights, say: another node may manage.
    loaded = absl::ResourceExhaustedError(e.what_without_backtrace());
  }
  if (process_group_ != nullptr) {
    // Members on other machines may lack a file the others have. They
    // agree on the load before the render's first collective, so one that
    // failed does not leave the others waiting in it.
    if (absl::Status st = AgreeOnLoad(loaded); !st.ok()) return st;
  }
  if (!loaded.ok()) return loaded;
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
  request.split_frames = p.split_frames();
  if (process_group_ == nullptr &&
      DevicesPerVideo(p) > static_cast<uint32_t>(ranks)) {
    // The ranks' split does not change the video beyond float rounding.
    LogInfo("job ", job.id(), " asks for ", DevicesPerVideo(p),
            " devices per video; this lane has ", ranks);
  }
  torch::Tensor frames;
  const absl::Status rendered = group_.Run(
      ranks, [&](int rank, pipeline::comm::Communicator* comm) -> absl::Status {
        pipeline::PipelineHooks hooks;
        hooks.progress = [&, rank](int64_t step, int64_t steps) {
          const double fraction = static_cast<double>(step) / (steps + 1);
          if (process_group_ != nullptr) {
            // Every step ends in collectives: the ranks are at the same
            // step, so this one's progress is each member's.
            for (int r = 0; r < process_group_->size(); ++r) {
              context.ReportDeviceProgress(r, fraction);
            }
          } else if (ranks == 1) {
            context.ReportProgress(fraction);
          } else {
            context.ReportDeviceProgress(rank, fraction);
          }
        };
        hooks.cancelled = [&] { return context.Cancelled(); };
        try {
          absl::StatusOr<torch::Tensor> out = pipeline::RenderVideo(
              *bundles_[rank], request, hooks,
              process_group_ != nullptr ? process_group_ : comm);
          if (!out.ok()) return out.status();
          if (rank == 0) frames = *std::move(out);  // every rank has it
          return absl::OkStatus();
        } catch (const c10::Error& e) {
          // Out of memory and friends: another node may manage.
          return absl::ResourceExhaustedError(e.what_without_backtrace());
        } catch (const std::exception& e) {
          return absl::InternalError(e.what());
        }
      });
  if (!rendered.ok()) return rendered;
  context.ReportProgress(1.0);
  return ToVideo(frames);
}

}  // namespace reelfarm
