#!/usr/bin/env bash
# Installs what pumprig needs to build and test, from Debian packages. Idempotent: packages
# already present are not touched, and apt-get runs only when something is missing.
set -euo pipefail

# Build and run-time libraries.
BUILD_PKGS=(build-essential cmake pkg-config
  libserialport-dev libmodbus-dev libboost-program-options-dev nlohmann-json3-dev doctest-dev
  libssl-dev libsqlite3-dev libpq-dev)
# Peers and tools the tests use: pseudo-terminal pairs, independent Modbus implementations,
# a second pump implementation's serial library, ser2net; clang 16 with libFuzzer for tools/fuzz.sh.
TEST_PKGS=(socat mbpoll python3 python3-pymodbus python3-serial python3-serial-asyncio ser2net chromium python3-lxml python3-jsonschema postgresql clang-16 libclang-rt-16-dev)

want=("${BUILD_PKGS[@]}")
if [[ "${1:-}" == "--tests" ]]; then want+=("${TEST_PKGS[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
