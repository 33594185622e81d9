#!/usr/bin/env bash
# Installs the Debian packages reelfarm builds with (apt runs only when one is
# missing) and builds everything into build/. Safe to run again. ffmpeg makes
# the mp4s and decodes outputs in tests; chromium draws gallery.html in tests;
# prometheus brings promtool, which checks the coordinator's metrics in tests.
# slurm and munge run the SLURM tests.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev
  libabsl-dev libyaml-cpp-dev nlohmann-json3-dev libssl-dev libpng-dev
  libtorch-dev libopenblas0-pthread libicu-dev
  libgtest-dev libgmock-dev zlib1g-dev libsqlite3-dev
  clang-14 libclang-rt-14-dev python3
  ffmpeg chromium prometheus
  slurmctld slurmd slurm-client munge
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ccache hits across clones in other folders (CI builds a fresh clone), and
# across the precompiled torch header.
export CCACHE_BASEDIR="$PWD"
# Debug info names the build folder; without this every clone misses.
export CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"

build_type=${REELFARM_BUILD_TYPE:-RelWithDebInfo}
jobs=${REELFARM_JOBS:-2}
if [ ! -f build/build.ninja ]; then
  cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE="$build_type" ${REELFARM_CMAKE_ARGS:-}
fi
ninja -C build -j"$jobs"
