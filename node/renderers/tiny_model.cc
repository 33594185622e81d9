#include "node/renderers/tiny_model.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "nlohmann/json.hpp"
#include "node/pipeline/animatediff/clip_text_model.h"
#include "node/pipeline/animatediff/unet_model.h"
#include "node/pipeline/animatediff/vae_decoder.h"
#include "node/pipeline/weights/safetensors.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using pipeline::TensorMap;

absl::Status WriteJson(const fs::path& path, const json& value) {
  std::ofstream out(path);
  out << value.dump(2) << "\n";
  if (!out.good())
    return absl::InternalError(absl::StrCat("write ", path.string()));
  return absl::OkStatus();
}

TensorMap Parameters(torch::nn::Module& module) {
  TensorMap out;
  for (const auto& p : module.named_parameters()) out[p.key()] = p.value();
  return out;
}

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest
// map to code points from 256 up, so every byte has a visible symbol.
std::string ByteSymbol(int byte) {
  static const auto* table = [] {
    auto* t = new std::vector<std::string>(256);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) ||
                             (b >= 174 && b <= 255);
      const int cp = printable ? b : 256 + extra++;
      std::string utf8;
      if (cp < 0x80) {
        utf8 += static_cast<char>(cp);
      } else {
        utf8 += static_cast<char>(0xC0 | (cp >> 6));
        utf8 += static_cast<char>(0x80 | (cp & 0x3F));
      }
      (*t)[b] = utf8;
    }
    return t;
  }();
  return (*table)[byte];
}

// A byte-level vocabulary with a single merge: nearly every character is a
// token of its own.
absl::Status WriteTokenizer(const fs::path& dir, int64_t* vocab_size) {
  fs::create_directories(dir);
  json vocab = json::object();
  int id = 0;
  for (int b = 0; b < 256; ++b) vocab[ByteSymbol(b)] = id++;
  for (int b = 0; b < 256; ++b) vocab[ByteSymbol(b) + "</w>"] = id++;
  vocab["an</w>"] = id++;
  vocab["<|startoftext|>"] = id++;
  vocab["<|endoftext|>"] = id++;
  *vocab_size = id;
  if (absl::Status st = WriteJson(dir / "vocab.json", vocab); !st.ok()) {
    return st;
  }
  std::ofstream(dir / "merges.txt") << "#version: 0.2\na n</w>\n";
  if (absl::Status st = WriteJson(dir / "special_tokens_map.json",
                                  {{"bos_token", "<|startoftext|>"},
                                   {"eos_token", "<|endoftext|>"},
                                   {"pad_token", "<|endoftext|>"},
                                   {"unk_token", "<|endoftext|>"}});
      !st.ok()) {
    return st;
  }
  return WriteJson(dir / "tokenizer_config.json",
                   {{"model_max_length", 77},
                    {"tokenizer_class", "CLIPTokenizer"},
                    {"do_lower_case", true}});
}

}  // namespace

absl::Status WriteTinyModel(const std::string& dir_name, uint64_t seed) {
  const fs::path dir = dir_name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ErrnoToStatus(ec.value(), absl::StrCat("create ", dir_name));
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;

  int64_t vocab_size = 0;
  if (absl::Status st = WriteTokenizer(dir / "tokenizer", &vocab_size);
      !st.ok()) {
    return st;
  }
  pipeline::ClipTextConfig text;
  text.vocab_size = vocab_size;
  text.hidden_size = 16;
  text.intermediate_size = 64;
  text.num_hidden_layers = 2;
  text.num_attention_heads = 2;
  pipeline::ClipTextModel text_model(text);
  fs::create_directories(dir / "text_encoder");
  if (absl::Status st =
          WriteJson(dir / "text_encoder/config.json",
                    {{"architectures", {"CLIPTextModel"}},
                     {"model_type", "clip_text_model"},
                     {"vocab_size", text.vocab_size},
                     {"hidden_size", text.hidden_size},
                     {"intermediate_size", text.intermediate_size},
                     {"num_hidden_layers", text.num_hidden_layers},
                     {"num_attention_heads", text.num_attention_heads},
                     {"max_position_embeddings", 77},
                     {"hidden_act", "quick_gelu"},
                     {"layer_norm_eps", 1e-5}});
      !st.ok()) {
    return st;
  }
  if (absl::Status st = pipeline::WriteSafetensors(
          (dir / "text_encoder/model.safetensors").string(),
          Parameters(*text_model));
      !st.ok()) {
    return st;
  }

  pipeline::UNetConfig unet;
  unet.block_out_channels = {16, 16, 32, 32};
  unet.norm_num_groups = 4;
  unet.cross_attention_dim = text.hidden_size;
  unet.attention_heads = {2};
  pipeline::MotionConfig motion;
  motion.num_attention_heads = 2;
  motion.norm_num_groups = 4;
  pipeline::UNet unet_model(unet, motion);
  TensorMap unet_weights, motion_weights;
  for (auto& [key, t] : Parameters(*unet_model)) {
    (key.find(".motion_modules.") != std::string::npos ? motion_weights
                                                       : unet_weights)[key] = t;
  }
  fs::create_directories(dir / "unet");
  fs::create_directories(dir / "motion_adapter");
  if (absl::Status st =
          WriteJson(dir / "unet/config.json",
                    {{"_class_name", "UNet2DConditionModel"},
                     {"in_channels", 4},
                     {"out_channels", 4},
                     {"block_out_channels", unet.block_out_channels},
                     {"down_block_types", unet.down_block_types},
                     {"up_block_types", unet.up_block_types},
                     {"layers_per_block", unet.layers_per_block},
                     {"norm_num_groups", unet.norm_num_groups},
                     {"cross_attention_dim", unet.cross_attention_dim},
                     {"attention_head_dim", unet.attention_heads[0]},
                     {"flip_sin_to_cos", true},
                     {"freq_shift", 0}});
      !st.ok()) {
    return st;
  }
  if (absl::Status st =
          WriteJson(dir / "motion_adapter/config.json",
                    {{"_class_name", "MotionAdapter"},
                     {"block_out_channels", unet.block_out_channels},
                     {"motion_layers_per_block", 2},
                     {"motion_mid_block_layers_per_block", 1},
                     {"motion_num_attention_heads", motion.num_attention_heads},
                     {"motion_norm_num_groups", motion.norm_num_groups},
                     {"motion_max_seq_length", motion.max_seq_length},
                     {"use_motion_mid_block", motion.use_mid_block}});
      !st.ok()) {
    return st;
  }
  for (auto [file, weights] :
       {std::make_pair("unet/diffusion_pytorch_model.safetensors",
                       &unet_weights),
        std::make_pair("motion_adapter/diffusion_pytorch_model.safetensors",
                       &motion_weights)}) {
    if (absl::Status st =
            pipeline::WriteSafetensors((dir / file).string(), *weights);
        !st.ok()) {
      return st;
    }
  }

  pipeline::VaeConfig vae;
  vae.block_out_channels = {16, 16, 32, 32};
  vae.norm_num_groups = 4;
  pipeline::VaeDecoder vae_model(vae);
  fs::create_directories(dir / "vae");
  if (absl::Status st =
          WriteJson(dir / "vae/config.json",
                    {{"_class_name", "AutoencoderKL"},
                     {"latent_channels", vae.latent_channels},
                     {"out_channels", 3},
                     {"block_out_channels", vae.block_out_channels},
                     {"layers_per_block", vae.layers_per_block},
                     {"norm_num_groups", vae.norm_num_groups},
                     {"scaling_factor", vae.scaling_factor}});
      !st.ok()) {
    return st;
  }
  if (absl::Status st = pipeline::WriteSafetensors(
          (dir / "vae/diffusion_pytorch_model.safetensors").string(),
          Parameters(*vae_model));
      !st.ok()) {
    return st;
  }

  fs::create_directories(dir / "scheduler");
  // AnimateDiff's DDIM settings.
  if (absl::Status st = WriteJson(dir / "scheduler/scheduler_config.json",
                                  {{"_class_name", "DDIMScheduler"},
                                   {"num_train_timesteps", 1000},
                                   {"beta_start", 0.00085},
                                   {"beta_end", 0.012},
                                   {"beta_schedule", "linear"},
                                   {"steps_offset", 1},
                                   {"clip_sample", false},
                                   {"set_alpha_to_one", false},
                                   {"timestep_spacing", "linspace"}});
      !st.ok()) {
    return st;
  }
  return WriteJson(dir / "model_index.json",
                   {{"_class_name", "AnimateDiffPipeline"},
                    {"text_encoder", {"transformers", "CLIPTextModel"}},
                    {"tokenizer", {"transformers", "CLIPTokenizer"}},
                    {"unet", {"diffusers", "UNet2DConditionModel"}},
                    {"vae", {"diffusers", "AutoencoderKL"}},
                    {"scheduler", {"diffusers", "DDIMScheduler"}}});
}

}  // namespace reelfarm
