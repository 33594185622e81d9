#include "node/pipeline/comm/nccl_communicator.h"

#include <cuda_runtime_api.h>
#include <torch/torch.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "node/pipeline/comm/cuda_stream.h"

namespace reelfarm::pipeline::comm {
namespace {

absl::Status NcclError(ncclResult_t r, const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", ncclGetErrorString(r)));
}

absl::Status CudaError(cudaError_t e, const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", cudaGetErrorString(e)));
}

// Collectives need contiguous tensors on this rank's GPU.
absl::Status CheckTensor(const torch::Tensor& t, int device, const char* what) {
  if (!t.is_cuda() || t.device().index() != device) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": tensor on ", t.device().str(), ", want cuda:", device));
  }
  if (!t.is_contiguous()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": tensor is not contiguous"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ncclDataType_t> NcclType(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32:
      return ncclFloat32;
    case torch::kFloat16:
      return ncclFloat16;
    case torch::kBFloat16:
      return ncclBfloat16;
    case torch::kFloat64:
      return ncclFloat64;
    case torch::kInt32:
      return ncclInt32;
    case torch::kInt64:
      return ncclInt64;
    case torch::kUInt8:
      return ncclUint8;
    case torch::kInt8:
      return ncclInt8;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("no NCCL type for ", c10::toString(type)));
  }
}

absl::StatusOr<std::unique_ptr<NcclCommunicator>> NcclCommunicator::Create(
    int rank, int size, int cuda_device, Rendezvous& rendezvous) {
  absl::Status setup;
  if (cudaError_t e = cudaSetDevice(cuda_device); e != cudaSuccess) {
    setup = CudaError(e, "cudaSetDevice");
  }
  ncclUniqueId id;
  std::memset(&id, 0, sizeof(id));
  if (rank == 0 && setup.ok()) {
    if (ncclResult_t r = ncclGetUniqueId(&id); r != ncclSuccess) {
      setup = NcclError(r, "ncclGetUniqueId");
    }
  }
  // Rank 0 shares even when it failed (nothing, then), so the others learn
  // it instead of waiting for an id that never comes.
  absl::StatusOr<std::string> shared = rendezvous.Share(
      rank, rank == 0 && !setup.ok()
                ? std::string()
                : std::string(reinterpret_cast<const char*>(&id), sizeof(id)));
  if (!setup.ok()) return setup;
  if (!shared.ok()) return shared.status();
  if (shared->size() != sizeof(id)) {
    return absl::UnavailableError("rank 0 could not set up NCCL");
  }
  std::memcpy(&id, shared->data(), sizeof(id));
  ncclComm_t comm;
  if (ncclResult_t r = ncclCommInitRank(&comm, size, id, rank);
      r != ncclSuccess) {
    return NcclError(r, "ncclCommInitRank");
  }
  return std::unique_ptr<NcclCommunicator>(
      new NcclCommunicator(comm, rank, size, cuda_device));
}

NcclCommunicator::~NcclCommunicator() {
  if (!aborted_.load()) ncclCommDestroy(comm_);
}

void NcclCommunicator::Abort() {
  if (!aborted_.exchange(true)) ncclCommAbort(comm_);
}

absl::Status NcclCommunicator::AllReduceSum(torch::Tensor& tensor) {
  if (aborted_.load()) return absl::AbortedError("device group aborted");
  if (absl::Status st = CheckTensor(tensor, device_, "all_reduce"); !st.ok()) {
    return st;
  }
  absl::StatusOr<ncclDataType_t> type = NcclType(tensor.scalar_type());
  if (!type.ok()) return type.status();
  ncclResult_t r =
      ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(), *type,
                    ncclSum, comm_, CurrentStream(tensor));
  return r == ncclSuccess ? absl::OkStatus() : NcclError(r, "ncclAllReduce");
}

absl::Status NcclCommunicator::AllGather(const torch::Tensor& input,
                                         torch::Tensor& output) {
  if (aborted_.load()) return absl::AbortedError("device group aborted");
  for (const torch::Tensor& t : {input, output}) {
    if (absl::Status st = CheckTensor(t, device_, "all_gather"); !st.ok()) {
      return st;
    }
  }
  if (output.numel() != input.numel() * size_ ||
      output.scalar_type() != input.scalar_type()) {
    return absl::InvalidArgumentError(
        absl::StrCat("all_gather output has ", output.numel(),
                     " elements, want ", input.numel() * size_));
  }
  absl::StatusOr<ncclDataType_t> type = NcclType(input.scalar_type());
  if (!type.ok()) return type.status();
  ncclResult_t r =
      ncclAllGather(input.data_ptr(), output.data_ptr(), input.numel(), *type,
                    comm_, CurrentStream(input));
  return r == ncclSuccess ? absl::OkStatus() : NcclError(r, "ncclAllGather");
}

absl::Status NcclCommunicator::Broadcast(torch::Tensor& tensor, int root) {
  if (aborted_.load()) return absl::AbortedError("device group aborted");
  if (absl::Status st = CheckTensor(tensor, device_, "broadcast"); !st.ok()) {
    return st;
  }
  absl::StatusOr<ncclDataType_t> type = NcclType(tensor.scalar_type());
  if (!type.ok()) return type.status();
  ncclResult_t r =
      ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(), *type,
                    root, comm_, CurrentStream(tensor));
  return r == ncclSuccess ? absl::OkStatus() : NcclError(r, "ncclBroadcast");
}

absl::Status NcclCommunicator::Barrier() {
  // A one-element all-reduce, then wait for it on the host.
  torch::Tensor one = torch::ones({1}, torch::TensorOptions()
                                           .dtype(torch::kFloat32)
                                           .device(torch::kCUDA, device_));
  if (absl::Status st = AllReduceSum(one); !st.ok()) return st;
  if (cudaError_t e = cudaStreamSynchronize(CurrentStream(one));
      e != cudaSuccess) {
    return CudaError(e, "cudaStreamSynchronize");
  }
  return absl::OkStatus();
}

}  // namespace reelfarm::pipeline::comm
