// Every class of bad input fails with InvalidArgument or NotFound and a
// message that starts with "file:line:column: " and names the field.
#include <string>

#include "absl/status/status.h"
#include "sweep/sweep_loader.h"
#include "gtest/gtest.h"
#include "tests/sweep/test_util.h"

namespace reelfarm::config {
namespace {

using testing_util::DataPath;
using testing_util::ErrorIs;
using testing_util::NoModelCheck;
using testing_util::ScopedCwd;
using testing_util::ScratchDir;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr auto kNotFound = absl::StatusCode::kNotFound;

absl::Status Parse(const std::string& yaml) {
  return ParseSweepText(yaml, "sweep.yaml", NoModelCheck()).status();
}

// A valid AnimateDiff entry, for tests that break one line of it. The
// first line is line 1.
constexpr char kEntryHead[] = R"(- motion_module: models/mm.ckpt
  steps: 25
  guidance_scale: 7.5
)";

TEST(ConfigErrorsTest, YamlSyntaxError) {
  EXPECT_TRUE(ErrorIs(Parse("- steps: [1, 2\n  prompt: [x]\n"), kInvalid,
                      "sweep.yaml:2:", "YAML syntax error"));
  // Through the file API, with the file's own path.
  EXPECT_TRUE(ErrorIs(
      LoadSweepFile(DataPath("bad_syntax.yaml"), NoModelCheck()).status(),
      kInvalid, DataPath("bad_syntax.yaml") + ":4:", "YAML syntax error"));
}

TEST(ConfigErrorsTest, EmptyOrScalarDocument) {
  EXPECT_TRUE(ErrorIs(Parse(""), kInvalid, "sweep.yaml:1:1: ", "empty"));
  EXPECT_TRUE(ErrorIs(Parse("just text\n"), kInvalid, "sweep.yaml:1:1: ",
                      "expected a list of AnimateDiff entries or a map"));
}

TEST(ConfigErrorsTest, UnreadableConfigFile) {
  EXPECT_TRUE(
      ErrorIs(LoadSweepFile("/nonexistent/sweep.yaml", NoModelCheck()).status(),
              kNotFound, "/nonexistent/sweep.yaml:1:1: ", "No such file"));
}

TEST(ConfigErrorsTest, WrongType) {
  EXPECT_TRUE(ErrorIs(Parse("- steps: twenty\n  guidance_scale: 7\n"
                            "  prompt: [x]\n"),
                      kInvalid, "sweep.yaml:1:10: steps: ",
                      "must be a positive integer, got twenty"));
  // Quoted numbers stay strings, as OmegaConf reads them.
  EXPECT_TRUE(ErrorIs(Parse("- steps: \"25\"\n  guidance_scale: 7\n"
                            "  prompt: [x]\n"),
                      kInvalid,
                      "sweep.yaml:1:10: steps: ", "got a string \"25\""));
  EXPECT_TRUE(ErrorIs(
      Parse(std::string(kEntryHead) + "  prompt: {a: b}\n"), kInvalid,
      "sweep.yaml:4:11: prompt: ", "must be a list of strings, got a map"));
  EXPECT_TRUE(ErrorIs(Parse("- steps: 2\n  guidance_scale: high\n"
                            "  prompt: [x]\n"),
                      kInvalid, "sweep.yaml:2:19: guidance_scale: ",
                      "must be a finite number, got high"));
  EXPECT_TRUE(ErrorIs(Parse("- steps: 2\n  guidance_scale: .nan\n"
                            "  prompt: [x]\n"),
                      kInvalid, "sweep.yaml:2:19: guidance_scale: ", "finite"));
}

TEST(ConfigErrorsTest, UnknownKeyWithSuggestion) {
  EXPECT_TRUE(ErrorIs(Parse("- steps: 2\n  guidance: 7\n  prompt: [x]\n"),
                      kInvalid, "sweep.yaml:2:3: ",
                      "unknown key 'guidance'; did you mean "
                      "'guidance_scale'?"));
  EXPECT_TRUE(
      ErrorIs(Parse("defaults: {prompt: x}\ngird:\n  seed: [1]\n"), kInvalid,
              "sweep.yaml:2:1: ", "unknown key 'gird'; did you mean 'grid'?"));
  EXPECT_TRUE(ErrorIs(Parse("defaults:\n  prompt: x\n  stpes: 3\n"), kInvalid,
                      "sweep.yaml:3:3: defaults: ",
                      "unknown key 'stpes'; did you mean 'steps'?"));
}

TEST(ConfigErrorsTest, MissingRequiredKey) {
  EXPECT_TRUE(ErrorIs(Parse(kEntryHead), kInvalid, "sweep.yaml:1:3: ",
                      "entry '0' is missing required key 'prompt'"));
  EXPECT_TRUE(ErrorIs(Parse("Toon:\n  prompt: [x]\n  steps: 2\n"), kInvalid,
                      "sweep.yaml:1:1: ",
                      "entry 'Toon' is missing required key "
                      "'guidance_scale'"));
  EXPECT_TRUE(ErrorIs(Parse("renderer: test-pattern\n"
                            "defaults: {steps: 2, guidance_scale: 7}\n"),
                      kInvalid,
                      "sweep.yaml:1:1: ", "missing required key 'prompt'"));
}

TEST(ConfigErrorsTest, NegativeSteps) {
  EXPECT_TRUE(ErrorIs(Parse("renderer: test-pattern\ndefaults:\n  prompt: x\n"
                            "  guidance_scale: 7\n  steps: -3\n"),
                      kInvalid, "sweep.yaml:5:10: steps: ",
                      "must be a positive integer, got -3"));
  EXPECT_TRUE(ErrorIs(Parse("- steps: 0\n  guidance_scale: 7\n"
                            "  prompt: [x]\n"),
                      kInvalid, "sweep.yaml:1:10: steps: ", "got 0"));
}

TEST(ConfigErrorsTest, DimensionsMustBeMultiplesOfEight) {
  EXPECT_TRUE(ErrorIs(
      Parse(std::string(kEntryHead) + "  prompt: [x]\n  W: 100\n"), kInvalid,
      "sweep.yaml:5:6: W: ", "must be a positive multiple of 8, got 100"));
  // Every value of an axis is checked, each at its own position.
  EXPECT_TRUE(ErrorIs(Parse("renderer: test-pattern\n"
                            "defaults: {prompt: x, steps: 2, "
                            "guidance_scale: 7}\n"
                            "grid:\n  H: [64, 128,\n      130]\n"),
                      kInvalid,
                      "sweep.yaml:5:7: H: ", "multiple of 8, got 130"));
  EXPECT_TRUE(ErrorIs(Parse("renderer: test-pattern\n"
                            "defaults: {prompt: x, steps: 2, "
                            "guidance_scale: 7}\n"
                            "grid:\n  W: {range: [64, 80, 4]}\n"),
                      kInvalid,
                      "sweep.yaml:4:14: W: ", "got 68 (value 2 of the range)"));
  LoadOptions options = NoModelCheck();
  options.width = 100;
  EXPECT_TRUE(
      ErrorIs(ParseSweepText(std::string(kEntryHead) + "  prompt: [x]\n",
                             "sweep.yaml", options)
                  .status(),
              kInvalid, "sweep.yaml:1:3: W: ", "got 100 (from --W)"));
}

TEST(ConfigErrorsTest, EmptyPromptList) {
  EXPECT_TRUE(
      ErrorIs(Parse(std::string(kEntryHead) + "  prompt: []\n"), kInvalid,
              "sweep.yaml:4:11: prompt: ", "must not be an empty list"));
  EXPECT_TRUE(ErrorIs(Parse(std::string(kEntryHead) + "  prompt: [\"\"]\n"),
                      kInvalid,
                      "sweep.yaml:4:12: prompt: ", "must not be empty"));
  EXPECT_TRUE(ErrorIs(
      Parse("renderer: test-pattern\n"
            "defaults: {steps: 2, guidance_scale: 7}\n"
            "grid: {prompt: []}\n"),
      kInvalid, "sweep.yaml:3:16: prompt: ", "must not be an empty list"));
}

TEST(ConfigErrorsTest, MismatchedListLengths) {
  EXPECT_TRUE(
      ErrorIs(Parse(std::string(kEntryHead) + "  prompt: [a, b, c, d]\n"
                                              "  n_prompt: [x, y, z]\n"),
              kInvalid,
              "sweep.yaml:5:13: n_prompt: ", "has 3 values but prompt has 4"));
  EXPECT_TRUE(ErrorIs(
      Parse(std::string(kEntryHead) + "  prompt: [a, b, c]\n"
                                      "  seed: [1, 2]\n"),
      kInvalid, "sweep.yaml:5:9: seed: ", "has 2 values but prompt has 3"));
  EXPECT_TRUE(ErrorIs(Parse("renderer: test-pattern\n"
                            "defaults: {steps: 2, guidance_scale: 7}\n"
                            "zip:\n  prompt: [a, b, c, d]\n"
                            "  n_prompt: [x, y, z]\n"),
                      kInvalid, "sweep.yaml:5:13: n_prompt: ",
                      "has 3 values but 'prompt', zipped with it, has 4"));
}

TEST(ConfigErrorsTest, SeedOutOfRange) {
  EXPECT_TRUE(ErrorIs(
      Parse(std::string(kEntryHead) + "  prompt: [a, b]\n  seed: [7, -5]\n"),
      kInvalid, "sweep.yaml:5:13: seed: ",
      "must be -1 or an integer from 0 to "
      "18446744073709551615, got -5"));
  EXPECT_TRUE(ErrorIs(Parse(std::string(kEntryHead) +
                            "  prompt: [a]\n  seed: 18446744073709551616\n"),
                      kInvalid,
                      "sweep.yaml:5:9: seed: ", "got 18446744073709551616"));
  EXPECT_TRUE(
      ErrorIs(Parse(std::string(kEntryHead) + "  prompt: [a]\n  seed: 1.5\n"),
              kInvalid, "sweep.yaml:5:9: seed: ", "got 1.5"));
}

TEST(ConfigErrorsTest, UnreadableModelPath) {
  ScratchDir dir;
  ScopedCwd cwd(dir.path());
  LoadOptions options;
  options.renderer = "test-pattern";
  absl::Status st = ParseSweepText(std::string(kEntryHead) + "  prompt: [a]\n",
                                   "sweep.yaml", options)
                        .status();
  EXPECT_TRUE(ErrorIs(st, kNotFound, "sweep.yaml:1:18: motion_module: ",
                      "cannot read models/mm.ckpt: No such file or "
                      "directory"));
  // animate.py's default paths are checked too, and say where they came
  // from.
  dir.Write("models/mm.ckpt");
  options.renderer.clear();
  st = ParseSweepText(std::string(kEntryHead) + "  prompt: [a]\n", "sweep.yaml",
                      options)
           .status();
  EXPECT_TRUE(ErrorIs(st, kNotFound, "sweep.yaml:1:3: pretrained_model_path: ",
                      "AnimateDiff's default; set --pretrained-model-path"));
  // In reelfarm's form paths are relative to the config's folder.
  st = ParseSweepText(
           "renderer: test-pattern\n"
           "model:\n  motion_module: mm.ckpt\n"
           "defaults: {prompt: x, steps: 2, guidance_scale: 7}\n",
           "sub/sweep.yaml", options)
           .status();
  EXPECT_TRUE(ErrorIs(st, kNotFound, "sub/sweep.yaml:3:18: motion_module: ",
                      "cannot read mm.ckpt"));
}

TEST(ConfigErrorsTest, ReelfarmStructure) {
  const std::string head =
      "renderer: test-pattern\n"
      "defaults: {prompt: x, steps: 2, guidance_scale: 7}\n";
  // A field lives in one place only.
  EXPECT_TRUE(ErrorIs(
      Parse(head + "grid:\n  steps: [1, 2]\n"), kInvalid,
      "sweep.yaml:4:3: steps: ", "already set in defaults at sweep.yaml:2:"));
  EXPECT_TRUE(ErrorIs(Parse(head + "grid:\n  seed: {range: [0, 10, 0]}\n"),
                      kInvalid,
                      "sweep.yaml:4:17: seed.range: ", "step must not be 0"));
  EXPECT_TRUE(ErrorIs(Parse(head + "grid:\n  seed: {range: [0, 200000000]}\n"),
                      kInvalid, "sweep.yaml:4:17: seed.range: ",
                      "range has 200000000 values; at most 100000000"));
  EXPECT_TRUE(ErrorIs(Parse(head + "grid:\n  seed: {range: [5, 5]}\n"),
                      kInvalid, "sweep.yaml:4:17: seed.range: ", "empty"));
  EXPECT_TRUE(
      ErrorIs(Parse(head + "grid:\n  seed: 5\n"), kInvalid,
              "sweep.yaml:4:9: seed: ", "put a single value under 'defaults'"));
  EXPECT_TRUE(ErrorIs(Parse("renderer: test-pattern\n"
                            "defaults: {prompt: x, steps: 2}\n"
                            "grid:\n  guidance_scale: {range: [1, 3]}\n"),
                      kInvalid, "sweep.yaml:4:20: guidance_scale.range: ",
                      "use {from, to, step}"));
  EXPECT_TRUE(ErrorIs(Parse(head + "model:\n  steps: 3\n"), kInvalid,
                      "sweep.yaml:4:3: steps: ", "put it under 'defaults'"));
  EXPECT_TRUE(ErrorIs(
      Parse("renderer: test-pattern\n"
            "defaults: {prompt: x, steps: 2, "
            "guidance_scale: 7, scheduler: plms}\n"),
      kInvalid, "sweep.yaml:2:63: scheduler: ", "must be one of ddim, euler"));
  EXPECT_TRUE(ErrorIs(Parse(head + "max_attempts: 0\n"), kInvalid,
                      "sweep.yaml:3:15: max_attempts: ", "positive"));
  EXPECT_TRUE(
      ErrorIs(Parse("renderer: blender\n"), kInvalid,
              "sweep.yaml:1:11: renderer: ", "unknown renderer 'blender'"));
}

TEST(ConfigErrorsTest, LoraAlphaSweptWithoutAFixedLora) {
  EXPECT_TRUE(ErrorIs(Parse("renderer: test-pattern\n"
                            "defaults: {prompt: x, steps: 2, "
                            "guidance_scale: 7}\n"
                            "grid:\n  lora_model_path: [a, b]\n"
                            "  lora_alpha: [0.1, 0.2]\n"),
                      kInvalid, "sweep.yaml:5:3: lora_alpha: ",
                      "only when lora_model_path is set under 'model'"));
}

TEST(ConfigErrorsTest, MisspeltReelfarmKeyGetsAHint) {
  // No exact reelfarm key, entry-like values: read as AnimateDiff's v1/v2
  // map; the error then points at the likely typo.
  absl::Status st = Parse("gird: {seed: [1]}\ndefualts: {prompt: x}\n");
  EXPECT_TRUE(ErrorIs(st, kInvalid, "sweep.yaml:1:1: ",
                      "did you mean reelfarm's 'grid' for 'gird'?"));
}

TEST(ConfigErrorsTest, DuplicateKey) {
  EXPECT_TRUE(
      ErrorIs(Parse(std::string(kEntryHead) + "  prompt: [a]\n  steps: 30\n"),
              kInvalid, "sweep.yaml:5:3: steps: ",
              "duplicate key in entry '0' (first set at "
              "sweep.yaml:2:3)"));
}

}  // namespace
}  // namespace reelfarm::config
