# reelfarm_test(NAME SOURCES... [LIBS ...] [LABELS ...]): one GoogleTest binary
# registered with ctest.
function(reelfarm_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
  # A hung child process must fail the run, not stall CI.
  set_tests_properties(${name} PROPERTIES TIMEOUT 300)
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()

# Compile the torch headers once per target instead of once per file.
function(reelfarm_torch_pch target)
  target_precompile_headers(${target} PRIVATE <torch/torch.h>)
endfunction()

# Use `owner`'s precompiled torch header in `target` (same flags), so the
# pipeline's folders compile it once between them.
function(reelfarm_torch_pch_from target owner)
  target_precompile_headers(${target} REUSE_FROM ${owner})
endfunction()
