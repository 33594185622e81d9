#include "tests/node/comm_probe_lib.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/sha256.h"

namespace reelfarm::comm_probe {
namespace {

std::string Line(size_t index, const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  const absl::string_view bytes(static_cast<const char*>(c.data_ptr()),
                                c.numel() * c.element_size());
  return absl::StrCat("result ", index, " ", c10::toString(c.scalar_type()),
                      " ", Sha256Hex(bytes));
}

}  // namespace

std::vector<torch::Tensor> Inputs(int rank) {
  at::Generator generator = at::detail::createCPUGenerator(4242 + rank);
  std::vector<torch::Tensor> inputs;
  for (torch::ScalarType type : {torch::kFloat32, torch::kFloat64}) {
    for (const std::vector<int64_t>& shape :
         std::vector<std::vector<int64_t>>{{5}, {0}, {3, 4}, {2, 4, 8, 8}}) {
      // Magnitudes differ by rank, so the order of the additions shows.
      inputs.push_back(torch::randn(shape, generator, torch::dtype(type)) *
                       std::pow(10.0, 2 * rank));
    }
  }
  return inputs;
}

absl::StatusOr<std::vector<std::string>> Run(
    pipeline::comm::Communicator& comm,
    const std::vector<torch::Tensor>& inputs) {
  std::vector<std::string> lines;
  for (const torch::Tensor& input : inputs) {
    torch::Tensor sum = input.clone();
    if (absl::Status st = comm.AllReduceSum(sum); !st.ok()) return st;
    lines.push_back(Line(lines.size(), sum));
    torch::Tensor gathered =
        torch::empty({comm.size() * input.numel()}, input.options());
    if (absl::Status st = comm.AllGather(input, gathered); !st.ok()) return st;
    lines.push_back(Line(lines.size(), gathered));
    torch::Tensor broadcast = input.clone();
    if (absl::Status st = comm.Broadcast(broadcast, comm.size() - 1);
        !st.ok()) {
      return st;
    }
    lines.push_back(Line(lines.size(), broadcast));
  }
  if (absl::Status st = comm.Barrier(); !st.ok()) return st;
  return lines;
}

}  // namespace reelfarm::comm_probe
