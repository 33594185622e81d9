#!/usr/bin/env bash
# Installs the Debian packages reelfarm needs (apt runs only when one is
# missing) and builds into build/. Safe to run again.
#
#   scripts/setup.sh demo   what `reelfarm` needs: its build packages, ffmpeg
#                           for the mp4s; builds the reelfarm target only.
#   scripts/setup.sh all    also what the tests need: GoogleTest; clang for the
#                           fuzzers; chromium draws gallery.html; prometheus
#                           brings promtool, which checks the metrics; slurm
#                           and munge run the SLURM tests. Builds everything.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev
  libabsl-dev libyaml-cpp-dev nlohmann-json3-dev libssl-dev libpng-dev
  libtorch-dev libopenblas0-pthread libicu-dev zlib1g-dev libsqlite3-dev
  prometheus-cpp-dev python3 ffmpeg
)
if [ "$mode" = all ]; then
  packages+=(
    libgtest-dev libgmock-dev clang-14 libclang-rt-14-dev
    chromium prometheus slurmctld slurmd slurm-client munge
  )
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
    -o Dpkg::Progress-Fancy=0 "${missing[@]}" |
    grep --line-buffered -E '^(Unpacking|Setting up) ' |
    awk '{ n++; if (n % 25 == 0) { printf "setup: %d package steps done\n", n; fflush() } }'
fi

# ccache hits across clones in other folders (CI builds a fresh clone), and
# across the precompiled torch header.
export CCACHE_BASEDIR="$PWD"
# Debug info names the build folder; without this every clone misses.
export CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"

build_type=${REELFARM_BUILD_TYPE:-RelWithDebInfo}
jobs=${REELFARM_JOBS:-2}
if [ "$mode" = all ]; then
  with_tests=ON
  targets=()
else
  # A build folder that already has the tests keeps them; a new one skips them.
  with_tests=OFF
  grep -qs '^REELFARM_BUILD_TESTS:BOOL=ON' build/CMakeCache.txt && with_tests=ON
  targets=(reelfarm)
fi
if [ ! -f build/build.ninja ] ||
  ! grep -qs "^REELFARM_BUILD_TESTS:BOOL=$with_tests" build/CMakeCache.txt; then
  mkdir -p build
  echo "setup: configuring build/ (tests and benchmarks: $with_tests)"
  cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE="$build_type" \
    -DREELFARM_BUILD_TESTS=$with_tests -DREELFARM_BUILD_BENCH=$with_tests \
    ${REELFARM_CMAKE_ARGS:-} >build/.configure.log 2>&1 ||
    { cat build/.configure.log; exit 1; }
fi
echo "setup: building ${targets[*]:-everything} with $jobs jobs"
# Ninja prints [done/total] for each step: the build's progress.
ninja -C build -j"$jobs" "${targets[@]}"
