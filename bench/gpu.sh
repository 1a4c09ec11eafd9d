#!/bin/sh
# The GPU machine check (issue #12): given the release archive, on a Linux x86-64 machine with a GPU
# and a Vulkan loader (libvulkan1 and the GPU vendor's Vulkan driver; NVIDIA's driver has one), runs
# `openbatch device-check` from the archive alone — no Node, npm or network needed: the PaddleOCR
# classifier's items/s on WebGPU (pool vs direct session.run(), the runtime benchmark's floor) and
# on the CPU, and the CPU-vs-WebGPU agreement study on the calibration models. Writes one JSON file.
#
#   bench/gpu.sh openbatch-<version>-linux-x64.tar.xz [out.json]
set -eu
if [ $# -lt 1 ] || [ ! -f "$1" ]; then
  echo "usage: bench/gpu.sh openbatch-<version>-linux-x64.tar.xz [out.json]   (build it with: pnpm release)" >&2
  exit 2
fi
archive=$1
out=${2:-gpu-check.json}
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
tar -xJf "$archive" -C "$dir"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$dir}"
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
"$dir"/openbatch-*/openbatch device-check --out "$out" ${OPENBATCH_CHECK_ARGS:-}
