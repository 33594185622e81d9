#include <gtest/gtest.h>
#include <torch/torch.h>

#include "node/pipeline/animatediff/clip_text_model.h"
#include "node/pipeline/weights/json_config.h"
#include "node/pipeline/weights/safetensors.h"
#include "node/pipeline/weights/state_dict.h"
#include "tests/pipeline/fixtures.h"

namespace reelfarm::pipeline {
namespace {

using testing::FixturePath;
using testing::IsClose;

ClipTextModel LoadFixtureEncoder() {
  auto json = ReadJsonFile(FixturePath("pipeline/text_encoder/config.json"));
  EXPECT_TRUE(json.ok()) << json.status();
  auto config = ClipTextConfig::FromJson(*json, "config.json");
  EXPECT_TRUE(config.ok()) << config.status();
  ClipTextModel model(*config);
  auto weights =
      LoadSafetensors(FixturePath("pipeline/text_encoder/model.safetensors"));
  EXPECT_TRUE(weights.ok()) << weights.status();
  EXPECT_TRUE(
      LoadStateDict(*model, *weights, "", "text_encoder", {"position_ids"})
          .ok());
  model->eval();
  return model;
}

TEST(TextEncoderTest, MatchesTransformers) {
  ClipTextModel model = LoadFixtureEncoder();
  TensorMap ref = testing::LoadReferenceTensors("text_encoder");
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> hidden;
  torch::Tensor out = model->Forward(ref.at("input_ids"), &hidden);
  EXPECT_TRUE(IsClose(out, ref.at("last_hidden_state"), 1e-5, 1e-5));
  // hidden_states.i are recorded for the first three prompts.
  for (size_t i = 0; i < hidden.size(); ++i) {
    const std::string key = "hidden_states." + std::to_string(i);
    ASSERT_TRUE(ref.count(key)) << key;
    EXPECT_TRUE(IsClose(hidden[i].slice(0, 0, 3), ref.at(key), 1e-5, 1e-5))
        << key;
  }
}

TEST(TextEncoderTest, WrongCheckpointIsAClearError) {
  auto json = ReadJsonFile(FixturePath("pipeline/text_encoder/config.json"));
  ASSERT_TRUE(json.ok());
  auto config = ClipTextConfig::FromJson(*json, "config.json");
  ASSERT_TRUE(config.ok());
  ClipTextModel model(*config);
  auto weights =
      LoadSafetensors(FixturePath("pipeline/text_encoder/model.safetensors"));
  ASSERT_TRUE(weights.ok());

  TensorMap missing = *weights;
  missing.erase("text_model.final_layer_norm.weight");
  absl::Status st = LoadStateDict(*model, missing, "", "te.safetensors");
  EXPECT_NE(st.message().find("missing 1 tensor(s): "
                              "text_model.final_layer_norm.weight"),
            std::string::npos)
      << st;

  TensorMap extra = *weights;
  extra["text_model.extra.weight"] = torch::zeros({1});
  st = LoadStateDict(*model, extra, "", "te.safetensors");
  EXPECT_NE(st.message().find("unexpected tensor(s): text_model.extra.weight"),
            std::string::npos)
      << st;

  TensorMap reshaped = *weights;
  reshaped["text_model.encoder.layers.0.mlp.fc1.weight"] = torch::zeros({8, 8});
  st = LoadStateDict(*model, reshaped, "", "te.safetensors");
  EXPECT_NE(st.message().find("has shape [8, 8], the model expects [37, 8]"),
            std::string::npos)
      << st;
}

TEST(TextEncoderTest, ConfigTypeErrorsNameTheKey) {
  auto config = ClipTextConfig::FromJson(
      nlohmann::json{{"hidden_size", "wide"}}, "config.json");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("'hidden_size' must be an integer"),
            std::string::npos);
}

}  // namespace
}  // namespace reelfarm::pipeline
