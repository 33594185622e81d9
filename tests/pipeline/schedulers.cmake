reelfarm_test(schedulers_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/schedulers_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/schedulers_config_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/schedulers_extra_test.cc
  LIBS reelfarm_pipeline_fixtures)
# diffusers runs for the cases the shared fixture does not record; regenerate
# with make_schedulers_extra_reference.py.
target_compile_definitions(schedulers_test PRIVATE
  REELFARM_SCHEDULERS_EXTRA_REFERENCE="${CMAKE_CURRENT_LIST_DIR}/schedulers_extra_reference.json")
