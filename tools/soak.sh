#!/usr/bin/env bash
# Soak: a 7-day virtual run (tools/soak/week.json) on the simulated bench, with the memory
# (VmRSS) and open files of pumprig and pumprig-sim read from /proc every few seconds.
# Prints a table; the last line compares the end with the first reading after start-up.
# Usage: tools/soak.sh [BUILD_DIR]   (default build/)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=$(mktemp -d /tmp/pumprig-soak-XXXXXX)
"$build/pumprig" run --out "$out" tools/soak/week.json >"$out/run.log" 2>&1 &
pid=$!
printf "%8s %14s %10s %12s %10s %14s\n" "wall_s" "samples" "rig_rss_kB" "rig_open_fd" "sim_rss_kB" "sim_open_fd"
t0=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
  sim=$(pgrep -P "$pid" pumprig-sim || true)
  rss=$(awk '/VmRSS/{print $2}' /proc/$pid/status 2>/dev/null || echo 0)
  fds=$(ls /proc/$pid/fd 2>/dev/null | wc -l)
  srss=0; sfds=0
  if [[ -n "$sim" ]]; then
    srss=$(awk '/VmRSS/{print $2}' /proc/$sim/status 2>/dev/null || echo 0)
    sfds=$(ls /proc/$sim/fd 2>/dev/null | wc -l)
  fi
  samples=$(cat "$out"/*/samples.csv 2>/dev/null | wc -l)
  printf "%8d %14d %10s %12s %10s %14s\n" $(( $(date +%s) - t0 )) "$samples" "$rss" "$fds" "$srss" "$sfds"
  sleep 5
done
wait "$pid" || true
tail -3 "$out/run.log"
echo "run folder: $(ls -d "$out"/*/ | head -1)"
