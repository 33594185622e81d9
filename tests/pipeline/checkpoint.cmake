reelfarm_test(checkpoint_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/checkpoint_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/checkpoint_hostile_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/checkpoint_test_util.cc
  LIBS reelfarm_pipeline_fixtures)
target_compile_definitions(checkpoint_test PRIVATE
  REELFARM_FUZZ_CORPUS="${PROJECT_SOURCE_DIR}/tests/fuzz/corpus")
# The tests deflate members themselves when zlib is there.
find_package(ZLIB QUIET)
if(ZLIB_FOUND)
  target_link_libraries(checkpoint_test PRIVATE ZLIB::ZLIB)
  target_compile_definitions(checkpoint_test PRIVATE REELFARM_TEST_ZLIB)
endif()
