# Reading PyTorch .ckpt archives (torch.save's zip format) without Python:
# a bounds-checked zip reader, a restricted pickle VM, the state-dict loader.
target_sources(reelfarm_pipeline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/zip_archive.cc
  ${CMAKE_CURRENT_LIST_DIR}/restricted_unpickler.cc
  ${CMAKE_CURRENT_LIST_DIR}/restricted_unpickler_torch.cc
  ${CMAKE_CURRENT_LIST_DIR}/checkpoint.cc
)
# zlib inflates DEFLATE members (torch's writer can compress records). It is
# optional so the pipeline still builds where only libtorch is installed;
# without it such members give a clear error.
find_package(ZLIB QUIET)
if(ZLIB_FOUND)
  target_compile_definitions(reelfarm_pipeline PRIVATE REELFARM_HAVE_ZLIB)
  target_link_libraries(reelfarm_pipeline PRIVATE ZLIB::ZLIB)
else()
  message(STATUS "reelfarm: zlib not found; DEFLATE members of .ckpt files are unsupported")
endif()
