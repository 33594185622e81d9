target_sources(reelfarm_pipeline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/models/attention_ops.cc
  ${CMAKE_CURRENT_LIST_DIR}/models/clip_text_model.cc
  ${CMAKE_CURRENT_LIST_DIR}/models/frame_split.cc
  ${CMAKE_CURRENT_LIST_DIR}/models/json_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/models/motion_module.cc
  ${CMAKE_CURRENT_LIST_DIR}/models/state_dict.cc
  ${CMAKE_CURRENT_LIST_DIR}/models/unet_blocks.cc
  ${CMAKE_CURRENT_LIST_DIR}/models/unet_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/models/unet_model.cc
  ${CMAKE_CURRENT_LIST_DIR}/models/vae_decoder.cc
)
target_sources(reelfarm_pipeline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/animatediff_pipeline.cc
  ${CMAKE_CURRENT_LIST_DIR}/comm/in_process_communicator.cc
  ${CMAKE_CURRENT_LIST_DIR}/comm/socket_communicator.cc
  ${CMAKE_CURRENT_LIST_DIR}/comm/socket_io.cc
  ${CMAKE_CURRENT_LIST_DIR}/context_windows.cc
  ${CMAKE_CURRENT_LIST_DIR}/free_noise.cc
  ${CMAKE_CURRENT_LIST_DIR}/windowed_denoiser.cc
  ${CMAKE_CURRENT_LIST_DIR}/checkpoint_layouts.cc
  ${CMAKE_CURRENT_LIST_DIR}/lora.cc
  ${CMAKE_CURRENT_LIST_DIR}/model_bundle.cc
)
