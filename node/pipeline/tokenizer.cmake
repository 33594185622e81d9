# The CLIP tokenizer. ICU (Debian libicu-dev) supplies the Unicode
# properties, NFC and case mapping that Python's str and unicodedata give
# transformers' tokenizer.
find_package(ICU REQUIRED COMPONENTS uc)
target_sources(reelfarm_pipeline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/clip_bpe.cc
  ${CMAKE_CURRENT_LIST_DIR}/clip_regex.cc
  ${CMAKE_CURRENT_LIST_DIR}/clip_tokenizer.cc
  ${CMAKE_CURRENT_LIST_DIR}/clip_tokenizer_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/unicode_text.cc
)
target_link_libraries(reelfarm_pipeline PRIVATE ICU::uc)
