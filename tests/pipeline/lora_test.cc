#include "node/pipeline/weights/lora.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <set>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "node/pipeline/animatediff/animatediff_pipeline.h"
#include "node/pipeline/animatediff/model_bundle.h"
#include "node/pipeline/weights/checkpoint_layouts.h"
#include "node/pipeline/weights/safetensors.h"
#include "tests/pipeline/fixtures.h"

namespace reelfarm::pipeline {
namespace {

using testing::FixturePath;

TensorMap Load(const std::string& relative) {
  auto tensors = LoadSafetensors(FixturePath(relative));
  EXPECT_TRUE(tensors.ok()) << tensors.status();
  return tensors.ok() ? *std::move(tensors) : TensorMap();
}

TensorMap Unet() {
  return Load("pipeline/unet/diffusion_pytorch_model.safetensors");
}
TensorMap Text() { return Load("pipeline/text_encoder/model.safetensors"); }
TensorMap Motion() {
  return Load("motion_adapter/diffusion_pytorch_model.safetensors");
}

// A rank-`rank` pair for a weight of `shape` (linear or conv), kohya's
// shapes: down (rank, in, kh, kw), up (out, rank, 1, 1).
struct Pair {
  torch::Tensor down, up;
};
Pair RandomPair(const torch::Tensor& w, int64_t rank) {
  std::vector<int64_t> down_shape(w.sizes().begin(), w.sizes().end());
  down_shape[0] = rank;
  std::vector<int64_t> up_shape = {w.size(0), rank};
  if (w.dim() == 4) up_shape.insert(up_shape.end(), {1, 1});
  return {torch::randn(down_shape), torch::randn(up_shape)};
}

// W + scale * (alpha / rank) * up @ down, written independently of lora.cc:
// kohya's merge_to for linear, 1x1 and 3x3 convolutions.
torch::Tensor Expected(const torch::Tensor& w, const Pair& p, double scale,
                       double alpha) {
  const double factor = scale * alpha / static_cast<double>(p.down.size(0));
  if (w.dim() == 2) return w + factor * p.up.mm(p.down);
  if (p.down.size(2) == 1 && p.down.size(3) == 1) {
    return w + factor * p.up.squeeze(3)
                            .squeeze(2)
                            .mm(p.down.squeeze(3).squeeze(2))
                            .unsqueeze(2)
                            .unsqueeze(3);
  }
  return w + factor * torch::conv2d(p.down.permute({1, 0, 2, 3}), p.up)
                          .permute({1, 0, 2, 3});
}

void ExpectMerged(const TensorMap& merged, const TensorMap& base,
                  const std::string& key, const Pair& p, double scale,
                  double alpha) {
  ASSERT_TRUE(merged.count(key)) << key;
  EXPECT_TRUE(torch::allclose(
      merged.at(key), Expected(base.at(key), p, scale, alpha), 1e-5, 1e-6))
      << key;
}

// Every weight except `changed` is untouched.
void ExpectOthersEqual(const TensorMap& merged, const TensorMap& base,
                       const std::set<std::string>& changed) {
  ASSERT_EQ(merged.size(), base.size());
  for (const auto& [key, t] : base) {
    if (changed.count(key)) continue;
    EXPECT_TRUE(torch::equal(merged.at(key), t)) << key;
  }
}

constexpr char kQ[] =
    "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight";
constexpr char kFf[] =
    "down_blocks.2.attentions.0.transformer_blocks.0.ff.net.0.proj.weight";
constexpr char kOut[] =
    "up_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.0.weight";
constexpr char kProjIn[] = "down_blocks.0.attentions.0.proj_in.weight";
constexpr char kConv3[] = "down_blocks.1.resnets.0.conv1.weight";
constexpr char kTeQ[] = "text_model.encoder.layers.0.self_attn.q_proj.weight";

TEST(LoraTest, KohyaDiffusersNames) {
  torch::manual_seed(1);
  const TensorMap unet0 = Unet(), text0 = Text();
  TensorMap unet = unet0, text = text0;
  struct Case {
    const char* weight;
    const char* kohya;
    int64_t rank;
    double alpha;  // < 0: no alpha tensor (defaults to the rank)
    bool text;
  };
  const Case cases[] = {
      {kQ,
       "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q",
       4, 2, false},
      {kFf,
       "lora_unet_down_blocks_2_attentions_0_transformer_blocks_0_ff_net_0_"
       "proj",
       2, -1, false},
      {kOut,
       "lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_attn1_to_out_0",
       3, 1, false},
      {kProjIn, "lora_unet_down_blocks_0_attentions_0_proj_in", 4, 1, false},
      {kConv3, "lora_unet_down_blocks_1_resnets_0_conv1", 4, 4, false},
      {kTeQ, "lora_te_text_model_encoder_layers_0_self_attn_q_proj", 2, 1,
       true},
  };
  TensorMap lora;
  std::map<std::string, Pair> pairs;
  for (const Case& c : cases) {
    const TensorMap& base = c.text ? text0 : unet0;
    Pair p = RandomPair(base.at(c.weight), c.rank);
    pairs[c.weight] = p;
    lora[std::string(c.kohya) + ".lora_down.weight"] = p.down;
    lora[std::string(c.kohya) + ".lora_up.weight"] = p.up;
    if (c.alpha >= 0) {
      lora[std::string(c.kohya) + ".alpha"] =
          torch::tensor(static_cast<float>(c.alpha));
    }
  }
  ASSERT_TRUE(MergeLora(lora, 0.7, &unet, &text, "style.safetensors").ok());
  for (const Case& c : cases) {
    const double alpha = c.alpha >= 0 ? c.alpha : c.rank;
    ExpectMerged(c.text ? text : unet, c.text ? text0 : unet0, c.weight,
                 pairs[c.weight], 0.7, alpha);
  }
  ExpectOthersEqual(unet, unet0, {kQ, kFf, kOut, kProjIn, kConv3});
  ExpectOthersEqual(text, text0, {kTeQ});
}

TEST(LoraTest, KohyaLdmNames) {
  torch::manual_seed(2);
  const TensorMap unet0 = Unet();
  TensorMap unet = unet0, text = Text();
  const std::pair<const char*, const char*> cases[] = {
      {"input_blocks_1_1_transformer_blocks_0_attn1_to_q", kQ},
      {"input_blocks_4_0_in_layers_2", kConv3},
      {"input_blocks_3_0_op", "down_blocks.0.downsamplers.0.conv.weight"},
      {"middle_block_1_proj_in", "mid_block.attentions.0.proj_in.weight"},
      {"middle_block_2_emb_layers_1",
       "mid_block.resnets.1.time_emb_proj.weight"},
      {"output_blocks_2_1_conv", "up_blocks.0.upsamplers.0.conv.weight"},
      {"output_blocks_5_1_transformer_blocks_0_attn2_to_k",
       "up_blocks.1.attentions.2.transformer_blocks.0.attn2.to_k.weight"},
      {"output_blocks_3_0_skip_connection",
       "up_blocks.1.resnets.0.conv_shortcut.weight"},
  };
  TensorMap lora;
  std::map<std::string, Pair> pairs;
  std::set<std::string> changed;
  for (const auto& [ldm, weight] : cases) {
    ASSERT_TRUE(unet0.count(weight)) << weight;
    Pair p = RandomPair(unet0.at(weight), 2);
    pairs[weight] = p;
    changed.insert(weight);
    lora[absl::StrCat("lora_unet_", ldm, ".lora_down.weight")] = p.down;
    lora[absl::StrCat("lora_unet_", ldm, ".lora_up.weight")] = p.up;
  }
  absl::Status st = MergeLora(lora, 1.0, &unet, &text, "ldm.safetensors");
  ASSERT_TRUE(st.ok()) << st;
  for (const auto& [weight, p] : pairs) {
    ExpectMerged(unet, unet0, weight, p, 1.0, 2);
  }
  ExpectOthersEqual(unet, unet0, changed);
}

TEST(LoraTest, DiffusersAndPeftKeys) {
  torch::manual_seed(3);
  const TensorMap unet0 = Unet(), text0 = Text();
  TensorMap unet = unet0, text = text0;
  const std::string v =
      "mid_block.attentions.0.transformer_blocks.0.attn2.to_v.weight";
  const std::string ff2 =
      "up_blocks.1.attentions.1.transformer_blocks.0.ff.net.2.weight";
  const std::string fc1 = "text_model.encoder.layers.1.mlp.fc1.weight";
  const std::string k = "text_model.encoder.layers.0.self_attn.k_proj.weight";
  const Pair q = RandomPair(unet0.at(kQ), 2),
             out = RandomPair(unet0.at(kOut), 2),
             pv = RandomPair(unet0.at(v), 3),
             pff = RandomPair(unet0.at(ff2), 4),
             pfc = RandomPair(text0.at(fc1), 2),
             pk = RandomPair(text0.at(k), 1);
  const std::string attn =
      "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.";
  const std::string attn_out =
      "unet.up_blocks.1.attentions.0.transformer_blocks.0.attn1.processor.";
  const std::string peft_ff =
      "unet.up_blocks.1.attentions.1.transformer_blocks.0.ff.net.2.";
  const TensorMap lora = {
      {attn + "to_q_lora.down.weight", q.down},
      {attn + "to_q_lora.up.weight", q.up},
      {attn_out + "to_out_lora.down.weight", out.down},
      {attn_out + "to_out_lora.up.weight", out.up},
      {"unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_v.lora.down."
       "weight",
       pv.down},
      {"unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_v.lora.up."
       "weight",
       pv.up},
      {peft_ff + "lora_A.weight", pff.down},
      {peft_ff + "lora_B.weight", pff.up},
      {peft_ff + "alpha", torch::tensor(8.0f)},
      {"text_encoder.text_model.encoder.layers.1.mlp.fc1.lora_A.weight",
       pfc.down},
      {"text_encoder.text_model.encoder.layers.1.mlp.fc1.lora_B.weight",
       pfc.up},
      {"text_encoder.text_model.encoder.layers.0.self_attn.k_proj.lora_linear_"
       "layer.down.weight",
       pk.down},
      {"text_encoder.text_model.encoder.layers.0.self_attn.k_proj.lora_linear_"
       "layer.up.weight",
       pk.up},
  };
  absl::Status st = MergeLora(lora, 1.5, &unet, &text, "diffusers.safetensors");
  ASSERT_TRUE(st.ok()) << st;
  ExpectMerged(unet, unet0, kQ, q, 1.5, 2);
  ExpectMerged(unet, unet0, kOut, out, 1.5, 2);
  ExpectMerged(unet, unet0, v, pv, 1.5, 3);
  ExpectMerged(unet, unet0, ff2, pff, 1.5, 8);
  ExpectMerged(text, text0, fc1, pfc, 1.5, 2);
  ExpectMerged(text, text0, k, pk, 1.5, 1);
  ExpectOthersEqual(unet, unet0, {kQ, kOut, v, ff2});
  ExpectOthersEqual(text, text0, {fc1, k});
}

// AnimateDiff v3's domain adapter: guoyww's processor keys, no "unet.".
TEST(LoraTest, DomainAdapterLayout) {
  torch::manual_seed(4);
  const TensorMap unet0 = Unet();
  TensorMap unet = unet0;
  const std::string k =
      "up_blocks.2.attentions.1.transformer_blocks.0.attn2.to_k.weight";
  const Pair p = RandomPair(unet0.at(k), 2), o = RandomPair(unet0.at(kOut), 2);
  const TensorMap lora = {
      {"up_blocks.2.attentions.1.transformer_blocks.0.attn2.processor.to_k_"
       "lora.down.weight",
       p.down},
      {"up_blocks.2.attentions.1.transformer_blocks.0.attn2.processor.to_k_"
       "lora.up.weight",
       p.up},
      {"up_blocks.1.attentions.0.transformer_blocks.0.attn1.processor.to_out_"
       "lora.down.weight",
       o.down},
      {"up_blocks.1.attentions.0.transformer_blocks.0.attn1.processor.to_out_"
       "lora.up.weight",
       o.up},
  };
  absl::Status st =
      MergeLora(lora, 0.8, &unet, nullptr, "v3_sd15_adapter.ckpt");
  ASSERT_TRUE(st.ok()) << st;
  ExpectMerged(unet, unet0, k, p, 0.8, 2);
  ExpectMerged(unet, unet0, kOut, o, 0.8, 2);
  ExpectOthersEqual(unet, unet0, {k, kOut});
}

TEST(LoraTest, MotionLoraGuoywwAndDiffusersNames) {
  torch::manual_seed(5);
  const TensorMap motion0 = Motion();
  TensorMap motion = motion0;
  const std::string q =
      "down_blocks.0.motion_modules.0.transformer_blocks.0.attn1.to_q.weight";
  const std::string out =
      "up_blocks.3.motion_modules.2.transformer_blocks.0.attn2.to_out.0.weight";
  const std::string mid =
      "mid_block.motion_modules.0.transformer_blocks.0.attn1.to_v.weight";
  const Pair pq = RandomPair(motion0.at(q), 4),
             po = RandomPair(motion0.at(out), 2),
             pm = RandomPair(motion0.at(mid), 2);
  const std::string guoyww_q =
      "down_blocks.0.motion_modules.0.temporal_transformer.transformer_blocks."
      "0.attention_blocks.0.processor.to_q_lora.";
  const std::string guoyww_out =
      "up_blocks.3.motion_modules.2.temporal_transformer.transformer_blocks.0."
      "attention_blocks.1.processor.to_out_lora.";
  const std::string converted =
      "unet.mid_block.motion_modules.0.transformer_blocks.0.attn1.processor."
      "to_v_lora.";
  const TensorMap lora = {
      {guoyww_q + "down.weight", pq.down},   {guoyww_q + "up.weight", pq.up},
      {guoyww_out + "down.weight", po.down}, {guoyww_out + "up.weight", po.up},
      {converted + "down.weight", pm.down},  {converted + "up.weight", pm.up},
  };
  absl::Status st = MergeMotionLora(lora, 0.6, &motion, "v2_lora_ZoomIn.ckpt");
  ASSERT_TRUE(st.ok()) << st;
  ExpectMerged(motion, motion0, q, pq, 0.6, 4);
  ExpectMerged(motion, motion0, out, po, 0.6, 2);
  ExpectMerged(motion, motion0, mid, pm, 0.6, 2);
  ExpectOthersEqual(motion, motion0, {q, out, mid});

  // guoyww's own motion module, converted as LoadModelBundle does, takes the
  // same LoRA the same way.
  int64_t len = 0;
  auto original = ConvertOriginalMotionModule(
      Load("original/animatediff_motion_module_v2_tiny.safetensors"), "orig",
      &len);
  ASSERT_TRUE(original.ok()) << original.status();
  TensorMap converted_motion = *original;
  ASSERT_TRUE(
      MergeMotionLora(lora, 0.6, &converted_motion, "v2_lora_ZoomIn.ckpt")
          .ok());
  ExpectMerged(converted_motion, *original, q, pq, 0.6, 4);
}

TEST(LoraTest, ScaleZeroLeavesWeightsUnchanged) {
  torch::manual_seed(6);
  const TensorMap unet0 = Unet(), text0 = Text();
  TensorMap unet = unet0, text = text0;
  const Pair p = RandomPair(unet0.at(kConv3), 4);
  const TensorMap lora = {
      {"lora_unet_down_blocks_1_resnets_0_conv1.lora_down.weight", p.down},
      {"lora_unet_down_blocks_1_resnets_0_conv1.lora_up.weight", p.up},
  };
  ASSERT_TRUE(MergeLora(lora, 0.0, &unet, &text, "zero.safetensors").ok());
  ExpectOthersEqual(unet, unet0, {});
  ExpectOthersEqual(text, text0, {});
}

// The error names the file and `fragment`, and nothing was merged.
void ExpectError(const TensorMap& lora, const std::string& fragment) {
  const TensorMap unet0 = Unet(), text0 = Text();
  TensorMap unet = unet0, text = text0;
  absl::Status st = MergeLora(lora, 1.0, &unet, &text, "bad.safetensors");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_NE(st.message().find("bad.safetensors"), std::string::npos) << st;
  EXPECT_NE(st.message().find(fragment), std::string::npos) << st;
  ExpectOthersEqual(unet, unet0, {});
  ExpectOthersEqual(text, text0, {});
}

TEST(LoraTest, Errors) {
  torch::manual_seed(7);
  const TensorMap unet0 = Unet();
  const Pair good = RandomPair(unet0.at(kQ), 2);
  const std::string q =
      "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";
  TensorMap lora = {{q + ".lora_down.weight", good.down},
                    {q + ".lora_up.weight", good.up}};

  // A key that fits no layer: listed, and the good module is not merged.
  TensorMap unknown = lora;
  unknown["lora_unet_down_blocks_9_no_such_layer.lora_down.weight"] = good.down;
  ExpectError(unknown, "lora_unet_down_blocks_9_no_such_layer");
  TensorMap stray = lora;
  stray[q + ".dora_scale"] = torch::ones({1});
  ExpectError(stray, q + ".dora_scale");

  // Shapes that do not fit name the key and the weight.
  TensorMap wrong = lora;
  wrong[q + ".lora_down.weight"] = torch::randn({2, 16});
  ExpectError(wrong, q + ".lora_down.weight");
  TensorMap rank = lora;
  rank[q + ".lora_up.weight"] = torch::randn({8, 3});
  ExpectError(rank, "rank");

  // A half pair.
  TensorMap half = {{q + ".lora_down.weight", good.down}};
  ExpectError(half, "no up partner");
  TensorMap only_up = {{q + ".lora_up.weight", good.up},
                       {q + ".alpha", torch::tensor(1.0f)}};
  ExpectError(only_up, "no down partner");

  // A MotionLoRA given as an image LoRA.
  const TensorMap motion = {
      {"down_blocks.0.motion_modules.0.temporal_transformer.transformer_"
       "blocks.0.attention_blocks.0.processor.to_q_lora.down.weight",
       good.down}};
  ExpectError(motion, "motion_module_lora_configs");

  // The domain adapter has no text encoder to patch.
  TensorMap unet = unet0;
  const Pair te = RandomPair(Text().at(kTeQ), 2);
  const TensorMap te_lora = {
      {"lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight",
       te.down},
      {"lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight",
       te.up}};
  EXPECT_FALSE(MergeLora(te_lora, 1.0, &unet, nullptr, "adapter.ckpt").ok());

  // Image LoRA keys given as a MotionLoRA.
  TensorMap motion_weights = Motion();
  absl::Status st =
      MergeMotionLora(lora, 1.0, &motion_weights, "not_motion.ckpt");
  EXPECT_NE(st.message().find("not_motion.ckpt"), std::string::npos) << st;
  EXPECT_NE(st.message().find("motion modules"), std::string::npos) << st;
}

// --- End to end: LoadModelBundle with LoRA files, then a tiny render. ---

VideoRequest TinyRequest() {
  VideoRequest r;
  r.prompt = "a corgi running on the beach at sunset";
  r.seed = 42;
  r.width = 64;
  r.height = 64;
  r.frames = 8;
  // DDIM's single step would be t=1, where the UNet barely moves the
  // latents; t=501 comes first with two.
  r.steps = 2;
  r.guidance_scale = 7.5;
  return r;
}

torch::Tensor Render(const ModelSources& sources) {
  auto models = LoadModelBundle(sources);
  EXPECT_TRUE(models.ok()) << models.status();
  if (!models.ok()) return torch::Tensor();
  auto frames = RenderVideo(**models, TinyRequest(), PipelineHooks());
  EXPECT_TRUE(frames.ok()) << frames.status();
  return frames.ok() ? *frames : torch::Tensor();
}

std::string WriteLora(const std::string& name, const TensorMap& tensors) {
  const std::string path = ::testing::TempDir() + "/" + name;
  absl::Status st = WriteSafetensors(path, tensors);
  EXPECT_TRUE(st.ok()) << st;
  return path;
}

TEST(LoraTest, LoadModelBundleMergesLoras) {
  torch::manual_seed(8);
  const TensorMap unet0 = Unet(), text0 = Text(), motion0 = Motion();
  // A style LoRA on a UNet attention, a resnet conv and the text encoder.
  TensorMap style;
  for (const auto& [kohya, weight, base] :
       {std::make_tuple(
            "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_"
            "to_q",
            kQ, &unet0),
        std::make_tuple("lora_unet_down_blocks_1_resnets_0_conv1", kConv3,
                        &unet0),
        std::make_tuple("lora_te_text_model_encoder_layers_0_self_attn_q_proj",
                        kTeQ, &text0)}) {
    const Pair p = RandomPair(base->at(weight), 2);
    style[absl::StrCat(kohya, ".lora_down.weight")] = p.down;
    style[absl::StrCat(kohya, ".lora_up.weight")] = p.up;
  }
  const Pair a = RandomPair(unet0.at(kOut), 2);
  const std::string adapter_key =
      "up_blocks.1.attentions.0.transformer_blocks.0.attn1.processor.to_out_"
      "lora.";
  const Pair m = RandomPair(
      motion0.at("mid_block.motion_modules.0.transformer_blocks.0.attn1.to_q."
                 "weight"),
      2);
  const std::string motion_key =
      "mid_block.motion_modules.0.temporal_transformer.transformer_blocks.0."
      "attention_blocks.0.processor.to_q_lora.";
  const std::string style_path = WriteLora("style.safetensors", style);
  const std::string adapter_path =
      WriteLora("adapter.safetensors", {{adapter_key + "down.weight", a.down},
                                        {adapter_key + "up.weight", a.up}});
  const std::string motion_path = WriteLora(
      "motion_lora.safetensors",
      {{motion_key + "down.weight", m.down}, {motion_key + "up.weight", m.up}});

  ModelSources sources;
  sources.base = FixturePath("pipeline");
  sources.motion_module = FixturePath("motion_adapter");
  const torch::Tensor plain = Render(sources);
  ASSERT_TRUE(plain.defined());

  ModelSources with = sources;
  with.loras = {{style_path, 1.0}};
  with.adapter_lora = std::make_pair(adapter_path, 1.0);
  with.motion_loras = {{motion_path, 1.0}};
  const torch::Tensor patched = Render(with);
  ASSERT_TRUE(patched.defined());
  EXPECT_EQ(patched.sizes(), plain.sizes());
  EXPECT_GT((patched - plain).abs().max().item<float>(), 1e-3);

  // The motion LoRA alone changes the video too.
  ModelSources motion_only = sources;
  motion_only.motion_loras = {{motion_path, 1.0}};
  const torch::Tensor moved = Render(motion_only);
  ASSERT_TRUE(moved.defined());
  EXPECT_GT((moved - plain).abs().max().item<float>(), 1e-3);

  ModelSources zero = with;
  zero.loras = {{style_path, 0.0}};
  zero.adapter_lora = std::make_pair(adapter_path, 0.0);
  zero.motion_loras = {{motion_path, 0.0}};
  const torch::Tensor same = Render(zero);
  ASSERT_TRUE(same.defined());
  EXPECT_TRUE(torch::equal(same, plain));
}

TEST(LoraTest, LoadModelBundleErrors) {
  ModelSources sources;
  sources.base = FixturePath("pipeline");
  const Pair p = RandomPair(Unet().at(kQ), 2);
  const std::string bad =
      WriteLora("bad_lora.safetensors",
                {{"lora_unet_no_such_layer.lora_down.weight", p.down},
                 {"lora_unet_no_such_layer.lora_up.weight", p.up}});
  sources.loras = {{bad, 1.0}};
  absl::Status st = LoadModelBundle(sources).status();
  EXPECT_NE(st.message().find("bad_lora.safetensors"), std::string::npos) << st;
  sources.loras.clear();
  sources.motion_loras = {{bad, 1.0}};
  st = LoadModelBundle(sources).status();
  EXPECT_NE(st.message().find("needs a motion_module"), std::string::npos)
      << st;
}

}  // namespace
}  // namespace reelfarm::pipeline
