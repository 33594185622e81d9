#include "node/pipeline/weights/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/pipeline/fixtures.h"

namespace reelfarm::pipeline {
namespace {

using testing::FixturePath;

// A safetensors image from a header and a data section.
std::string Image(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t len = header.size();
  std::memcpy(out.data(), &len, 8);
  return out + header + data;
}

std::string Floats(std::initializer_list<float> values) {
  std::string out(values.size() * 4, '\0');
  std::memcpy(out.data(), values.begin(), out.size());
  return out;
}

absl::StatusCode CodeOf(const std::string& image) {
  return ParseSafetensors(image, "test.safetensors").status().code();
}

TEST(SafetensorsTest, DecodesF32F16AndBf16) {
  // 1.5 as F16 is 0x3E00, as BF16 0x3FC0.
  const std::string data = Floats({1.0f, -2.0f}) + std::string("\x00\x3e", 2) +
                           std::string("\xc0\x3f", 2);
  const std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("h":{"dtype":"F16","shape":[1,1],"data_offsets":[8,10]},)"
      R"("b":{"dtype":"BF16","shape":[1],"data_offsets":[10,12]}})";
  auto tensors = ParseSafetensors(Image(header, data), "t");
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  EXPECT_EQ(tensors->at("a")[1].item<float>(), -2.0f);
  EXPECT_EQ(tensors->at("h").sizes(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(tensors->at("h").dtype(), torch::kFloat32);
  EXPECT_EQ(tensors->at("h").item<float>(), 1.5f);
  EXPECT_EQ(tensors->at("b").item<float>(), 1.5f);
}

TEST(SafetensorsTest, EmptyTensorsAndEmptyFile) {
  auto tensors = ParseSafetensors(
      Image(R"({"z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]}})", ""),
      "t");
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  EXPECT_EQ(tensors->at("z").numel(), 0);
  EXPECT_TRUE(ParseSafetensors(Image("{}", ""), "t").ok());
}

TEST(SafetensorsTest, RejectsEveryKindOfBadFile) {
  const std::string ok_header =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string data = Floats({1, 2});
  const std::string good = Image(ok_header, data);
  ASSERT_TRUE(ParseSafetensors(good, "t").ok());

  struct Case {
    const char* what;
    std::string image;
  };
  std::string lying = good;
  const uint64_t huge = 1ull << 40;
  std::memcpy(lying.data(), &huge, 8);
  const std::vector<Case> cases = {
      {"truncated length", "abc"},
      {"truncated data", good.substr(0, good.size() - 3)},
      {"lying header length", lying},
      {"header not JSON", Image("{not json", data)},
      {"header not an object", Image("[1,2]", data)},
      {"unknown dtype",
       Image(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", data)},
      {"shape mismatch",
       Image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
             data)},
      {"negative dimension",
       Image(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
             data)},
      {"offsets out of bounds",
       Image(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
             data)},
      {"offsets reversed",
       Image(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})",
             data)},
      {"overlapping",
       Image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
             data)},
      {"unused bytes", Image(ok_header, data + "xxxx")},
      {"missing fields", Image(R"({"a":{"dtype":"F32"}})", data)},
      {"overflowing shape",
       Image(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],)"
             R"("data_offsets":[0,8]}})",
             data)},
  };
  for (const Case& c : cases) {
    auto result = ParseSafetensors(c.image, "bad.safetensors");
    ASSERT_FALSE(result.ok()) << c.what;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
        << c.what;
    EXPECT_NE(result.status().message().find("bad.safetensors"),
              std::string::npos)
        << c.what << ": " << result.status();
  }
}

TEST(SafetensorsTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadSafetensors("/nonexistent/model.safetensors").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SafetensorsTest, LoadsTheFixtureFiles) {
  auto encoder =
      LoadSafetensors(FixturePath("pipeline/text_encoder/model.safetensors"));
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  EXPECT_GT(encoder->size(), 10u);
  // The F16 motion module holds the same values as its F32 .ckpt twin; here
  // it is enough that it decodes to float32.
  auto motion = LoadSafetensors(
      FixturePath("original/animatediff_motion_module_v2_tiny.safetensors"));
  ASSERT_TRUE(motion.ok()) << motion.status();
  for (const auto& [name, t] : *motion) {
    EXPECT_EQ(t.dtype(), torch::kFloat32) << name;
  }
}

}  // namespace
}  // namespace reelfarm::pipeline
