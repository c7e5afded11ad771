#!/usr/bin/env bash
# Configures and builds pumprig into build/ (Release with debug info). Used by the README's two
# commands; safe to run again (incremental).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
