#ifndef REELFARM_NODE_PIPELINE_ANIMATEDIFF_MODEL_BUNDLE_H_
#define REELFARM_NODE_PIPELINE_ANIMATEDIFF_MODEL_BUNDLE_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "node/pipeline/animatediff/clip_tokenizer.h"
#include "node/pipeline/animatediff/clip_text_model.h"
#include "node/pipeline/animatediff/unet_model.h"
#include "node/pipeline/animatediff/vae_decoder.h"

namespace reelfarm::pipeline {

// The files a render uses, as AnimateDiff names them.
struct ModelSources {
  // pretrained_model_path: a diffusers folder (model_index.json, tokenizer/,
  // text_encoder/, unet/, vae/, scheduler/).
  std::string base;
  // motion_module: guoyww's .ckpt/.safetensors, a diffusers MotionAdapter
  // weights file, or a MotionAdapter folder. Empty: an image model.
  std::string motion_module;
  // dreambooth_path: a single-file (LDM layout) checkpoint whose UNet, VAE
  // and text encoder weights replace the base's, as AnimateDiff does.
  std::string dreambooth;
  // The motion modules' shape when the caller knows it (AnimateDiff's
  // inference config); otherwise read from a MotionAdapter folder's
  // config.json or detected from the tensors.
  std::optional<MotionConfig> motion_config;
  // LoRA files and their scales, merged into the weights at load (see
  // lora.h). loras: lora_model_path + lora_alpha (UNet and text encoder);
  // motion_loras: motion_module_lora_configs (need a motion_module);
  // adapter_lora: v3's adapter_lora_path + adapter_lora_scale (UNet).
  std::vector<std::pair<std::string, double>> loras, motion_loras;
  std::optional<std::pair<std::string, double>> adapter_lora;
};

// Everything one render lane keeps loaded between jobs.
struct ModelBundle {
  std::optional<ClipTokenizer> tokenizer;  // always set once loaded
  ClipTextModel text_encoder{nullptr};
  UNet unet{nullptr};
  VaeDecoder vae{nullptr};
  nlohmann::json scheduler_config;  // scheduler/scheduler_config.json

  // Moves the models to `device` and casts their weights to `dtype`
  // (float32, float16 or bfloat16; half precision halves the memory). With
  // `channels_last`, convolution weights are stored NHWC, which GPU
  // convolution kernels (tensor cores) prefer; the results are the same.
  void To(const torch::Device& device, torch::ScalarType dtype,
          bool channels_last = false);
};

// "fp32", "fp16" or "bf16" (also "float32", "float16", "bfloat16").
absl::StatusOr<torch::ScalarType> ParsePrecision(const std::string& name);

// Loads and checks every file; errors name the file and what is wrong.
absl::StatusOr<std::unique_ptr<ModelBundle>> LoadModelBundle(
    const ModelSources& sources);

// Buffers checkpoints carry that the models recompute.
const std::vector<std::string>& RecomputedBufferSuffixes();

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_ANIMATEDIFF_MODEL_BUNDLE_H_
