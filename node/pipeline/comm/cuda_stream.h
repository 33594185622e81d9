#ifndef REELFARM_NODE_PIPELINE_COMM_CUDA_STREAM_H_
#define REELFARM_NODE_PIPELINE_COMM_CUDA_STREAM_H_

#include <cuda_runtime_api.h>
#include <torch/types.h>

namespace reelfarm::pipeline::comm {

// The stream torch queues work on for `tensor`'s device, so collectives
// order after the kernels that produced the tensor. With a CUDA libtorch
// (REELFARM_TORCH_CUDA) that is torch's current stream; built against a
// CPU-only libtorch it is the legacy default stream, which is also what
// torch uses when no stream was set.
cudaStream_t CurrentStream(const torch::Tensor& tensor);

}  // namespace reelfarm::pipeline::comm

#endif  // REELFARM_NODE_PIPELINE_COMM_CUDA_STREAM_H_
