#!/usr/bin/env bash
# Installs dependencies, builds vlmt and runs every test (unit, MPI at 2 ranks, integration).
# This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase's seconds are printed at the end (docs/TESTING.md "Time"), also when a phase fails.
phases=""
phase() { phases="$phases $1 $((SECONDS - start)) s;"; start=$SECONDS; }
trap 'echo "test.sh:$phases"' EXIT
start=$SECONDS
bash tools/install_deps.sh
phase install
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j "$(nproc --all)"
phase build
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc --all)" "$@"
phase tests
