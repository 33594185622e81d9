#include "bench/random_model.h"

#include <torch/torch.h>

namespace reelfarm::pipeline {

ModelBundle RandomMidSizeModel(ModelBundle& fixture, int text_layers) {
  ModelBundle m;
  m.tokenizer = std::move(fixture.tokenizer);
  m.scheduler_config = fixture.scheduler_config;
  ClipTextConfig text;
  text.hidden_size = 256;
  text.intermediate_size = 1024;
  text.num_hidden_layers = text_layers;
  text.num_attention_heads = 4;
  UNetConfig unet;
  unet.block_out_channels = {64, 128, 256, 256};
  unet.cross_attention_dim = text.hidden_size;
  unet.attention_heads = {8};
  VaeConfig vae;
  vae.block_out_channels = {32, 64, 128, 128};
  torch::manual_seed(1);
  m.text_encoder = ClipTextModel(text);
  m.unet = UNet(unet, MotionConfig());
  m.vae = VaeDecoder(vae);
  m.text_encoder->eval();
  m.unet->eval();
  m.vae->eval();
  return m;
}

}  // namespace reelfarm::pipeline
