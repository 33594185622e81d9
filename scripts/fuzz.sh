#!/usr/bin/env bash
# Builds the weights-file fuzzers (tests/fuzz) with clang, libFuzzer, ASan and
# UBSan in their own build dir, then runs each for SECONDS (default 30).
#
#   scripts/fuzz.sh [SECONDS]
#
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (ninja -j,
# default 1), FUZZ_CC/FUZZ_CXX (default clang-14/clang++-14, else clang),
# FUZZ_RSS_MB (default 2048). New inputs go to $FUZZ_BUILD_DIR/corpus, crash
# reproducers to $FUZZ_BUILD_DIR/artifacts; the committed seeds in
# tests/fuzz/corpus are only read. Exits non-zero when a fuzzer finds a bug.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-30}
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${FUZZ_JOBS:-1}
pick() { for c in "$@"; do command -v "$c" >/dev/null && { echo "$c"; return; }; done; }
cc=${FUZZ_CC:-$(pick clang-14 clang)}
cxx=${FUZZ_CXX:-$(pick clang++-14 clang++)}
if [[ -z "$cc" || -z "$cxx" ]]; then
  echo "fuzz.sh: clang not found (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
fi

# Until tests/CMakeLists.txt adds the fuzz directory, configure a small
# wrapper project around it instead of the whole tree.
src=$root
if ! grep -qs 'add_subdirectory(fuzz)' "$root/tests/CMakeLists.txt"; then
  src=$build/wrapper
  mkdir -p "$src"
  cat >"$src/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.22)
project(reelfarm_fuzz LANGUAGES C CXX)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
list(APPEND CMAKE_MODULE_PATH "$root/cmake")
set(REELFARM_BUILD_TESTS OFF)
include(ReelfarmDependencies)
add_subdirectory("$root/tests/fuzz" tests/fuzz)
EOF
fi

mkdir -p "$build"
# A cache made for the other source dir (wrapper vs. tree) cannot be reused.
if ! grep -qsx "CMAKE_HOME_DIRECTORY:INTERNAL=$src" "$build/CMakeCache.txt"; then
  rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
fi
cmake -G Ninja -S "$src" -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DREELFARM_FUZZ=ON -DREELFARM_BUILD_BENCH=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
ninja -C "$build" -j"$jobs" safetensors_fuzzer pickle_fuzzer

# libtorch's own allocations at exit are not ours to report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for name in safetensors pickle; do
  corpus=$build/corpus/$name
  mkdir -p "$corpus" "$build/artifacts"
  args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb="${FUZZ_RSS_MB:-2048}"
    -print_final_stats=1 -artifact_prefix="$build/artifacts/${name}-")
  [[ -f "$root/tests/fuzz/$name.dict" ]] && args+=(-dict="$root/tests/fuzz/$name.dict")
  bin=$(find "$build" -name "${name}_fuzzer" -type f -perm -u+x | head -n1)
  echo "== ${name}_fuzzer for ${secs}s"
  if ! "$bin" "${args[@]}" "$corpus" "$root/tests/fuzz/corpus/$name" \
    2>"$build/$name.log"; then
    status=1
    echo "${name}_fuzzer FAILED; see $build/$name.log and $build/artifacts" >&2
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' \
    "$build/$name.log" || tail -n 40 "$build/$name.log"
done
exit "$status"
