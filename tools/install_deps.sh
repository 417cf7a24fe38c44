#!/usr/bin/env bash
# Installs every Debian 12 package vlmt needs. Idempotent: packages already present are
# skipped, and `apt-get update` runs at most once per invocation.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  libtorch-dev                      # LibTorch 1.13 (CPU)
  libopenblas0-openmp               # without it LibTorch falls back to reference BLAS (~20x slower matmul)
  libopenmpi-dev openmpi-bin        # MPI runtime and compilers
  libhdf5-dev                       # HDF5 C and C++ APIs (checkpoints, feature stores)
  libboost-serialization-dev        # trainer state inside checkpoints
  libtomlplusplus-dev               # TOML configs
  nlohmann-json3-dev                # JSON Lines metrics, annotations, safetensors headers
  libcli11-dev                      # command-line parsing (src/core/cli)
  zlib1g-dev                        # CRC-32 of checkpoint tensors
  googletest libgtest-dev           # unit tests
  slurm-wlm munge libpmix-dev       # local Slurm for integration tests and the quickstart
  python3 python3-numpy python3-h5py python3-lmdb # conversion helpers (lmdb: released features)
  python3-torch                     # released checkpoints (.bin): torch.load(weights_only=True)
  python3-crcmod python3-protobuf   # the independent TensorBoard event-file reader (tests/integration/tb_reader.py)
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install_deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install_deps: done"
