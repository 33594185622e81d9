#ifndef REELFARM_TESTS_INTEGRATION_TINY_ANIMATEDIFF_H_
#define REELFARM_TESTS_INTEGRATION_TINY_ANIMATEDIFF_H_

// The fixtures' tiny AnimateDiff models for tests that render with the
// reelfarm binary, and comparisons of what they render.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace reelfarm::testing_tiny {

// The fixtures folder: $REELFARM_FIXTURES, or the one beside the checkout.
std::string Fixtures();

// RGB8 pixels of a PNG file.
std::vector<uint8_t> ReadPng(const std::string& path, int* width, int* height);

// Writes an AnimateDiff inference config of the tiny motion module's shape
// to dir/inference-tiny.yaml and returns the flags that render with the tiny
// models (--pretrained-model-path, --inference-config).
std::vector<std::string> TinyModelFlags(const std::filesystem::path& dir);

// An AnimateDiff-style sweep entry for the tiny motion module: one 64x64
// video of `frames` frames in 3 steps, plus `extra` lines ("key: value").
std::string TinySweep(int frames, const std::vector<std::string>& extra);

// Largest difference, in 8-bit levels, between the PNG frames of two
// manifest jobs, each in its output folder.
int WorstFrameDifference(const std::filesystem::path& a_out,
                         const nlohmann::json& a_job,
                         const std::filesystem::path& b_out,
                         const nlohmann::json& b_job);

}  // namespace reelfarm::testing_tiny

#endif  // REELFARM_TESTS_INTEGRATION_TINY_ANIMATEDIFF_H_
