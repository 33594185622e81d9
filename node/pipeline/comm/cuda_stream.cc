#include "node/pipeline/comm/cuda_stream.h"

#ifdef REELFARM_TORCH_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

namespace reelfarm::pipeline::comm {

cudaStream_t CurrentStream(const torch::Tensor& tensor) {
#ifdef REELFARM_TORCH_CUDA
  return c10::cuda::getCurrentCUDAStream(tensor.device().index()).stream();
#else
  (void)tensor;
  return nullptr;
#endif
}

}  // namespace reelfarm::pipeline::comm
