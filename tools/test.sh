#!/usr/bin/env bash
# Every test: set up (build and test dependencies), build, and run the whole suite through
# CTest. .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --tests
bash tools/build.sh
cd build
exec ctest --output-on-failure --no-tests=error -j2 --timeout 1500
