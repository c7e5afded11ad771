#!/usr/bin/env bash
# The main job: set up, build, and run the scenario library on the simulated bench
# (rig/sim.json); each run's record and reports are written under reports/. As many scenarios
# run at once as there are cores (pumprig run's default --jobs), each on a simulator of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build.sh
exec ./build/pumprig run --rig rig/sim.json "${@:-scenarios/}"
