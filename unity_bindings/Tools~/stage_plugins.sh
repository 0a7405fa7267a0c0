#!/usr/bin/env bash
# Copies the Linux x86_64 build of libfoleykit (build/unity, made by .ci/test-unity or by
# `cmake -S . -B build/unity -G Ninja && cmake --build build/unity --target foleykit`) into the
# package's plugin slot, so the package can be tried in the Unity Editor on Linux.
# The slot is a committed 0-byte placeholder: do not commit the staged binary
# (`git checkout unity_bindings/Plugins/Linux/x86_64/libfoleykit.so` puts the placeholder back).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
lib="$repo/build/unity/libfoleykit.so"
if [ ! -f "$lib" ]; then
  echo "no $lib: build it first (see the comment at the top of this script)" >&2
  exit 1
fi
cp -L "$lib" "$here/../Plugins/Linux/x86_64/libfoleykit.so"
echo "staged $lib -> unity_bindings/Plugins/Linux/x86_64/libfoleykit.so"
