reelfarm_test(clip_tokenizer_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/clip_tokenizer_test.cc
  LIBS reelfarm_pipeline_fixtures)
