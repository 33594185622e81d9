reelfarm_test(text_encoder_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/text_encoder_test.cc
  LIBS reelfarm_pipeline_fixtures)
reelfarm_test(unet_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/unet_test.cc
  LIBS reelfarm_pipeline_fixtures)
reelfarm_test(vae_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/vae_test.cc
  LIBS reelfarm_pipeline_fixtures)
reelfarm_test(pipeline_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/pipeline_test.cc
  LIBS reelfarm_pipeline_fixtures)
reelfarm_test(lora_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/lora_test.cc
  LIBS reelfarm_pipeline_fixtures)
