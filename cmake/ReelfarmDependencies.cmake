# Every dependency comes from Debian packages (scripts/setup.sh installs them),
# or, for libtorch, from an official build given with -DCMAKE_PREFIX_PATH.
find_package(Threads REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(PNG REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(Torch REQUIRED)

find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
if(TARGET protobuf::protoc)
  set(REELFARM_PROTOC $<TARGET_FILE:protobuf::protoc>)
else()
  find_program(REELFARM_PROTOC protoc REQUIRED)
endif()

# libtorch's CMake config hands out flags as variables; wrap them in one target.
add_library(reelfarm_torch INTERFACE)
target_link_libraries(reelfarm_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(reelfarm_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
if(TORCH_CXX_FLAGS)
  separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
  target_compile_options(reelfarm_torch INTERFACE ${_torch_flags})
endif()
# gRPC's users compile with -pthread; so does every torch user, so one
# precompiled torch header (its _REENTRANT included) serves them all.
target_compile_options(reelfarm_torch INTERFACE -pthread)

# CUDA and NCCL are optional: AUTO turns them on only when both are found.
set(REELFARM_HAVE_CUDA OFF)
if(NOT REELFARM_CUDA STREQUAL "OFF")
  find_package(CUDAToolkit QUIET)
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} ENV NCCL_HOME PATH_SUFFIXES include)
  find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} ENV NCCL_HOME PATH_SUFFIXES lib lib64)
  if(CUDAToolkit_FOUND AND NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(REELFARM_HAVE_CUDA ON)
  elseif(REELFARM_CUDA STREQUAL "ON")
    message(FATAL_ERROR "REELFARM_CUDA=ON but CUDA (${CUDAToolkit_FOUND}) or NCCL (${NCCL_LIBRARY}) is missing")
  endif()
endif()
message(STATUS "reelfarm: torch ${Torch_VERSION}, CUDA/NCCL paths: ${REELFARM_HAVE_CUDA}")

if(REELFARM_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
