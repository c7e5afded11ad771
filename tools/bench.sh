#!/usr/bin/env bash
# Builds pumprig-bench in Release (build-bench/) and runs it on the simulated bench; the table
# goes to stdout and replaces the one between the bench markers in docs/performance.md.
#   tools/bench.sh            the full run (about 7 minutes; item 5 alone takes 4: two 2-minute runs)
#   tools/bench.sh --quick    a few hundred iterations per item (about 10 s), docs left alone
# Other options are passed to pumprig-bench (e.g. --only 1,2). PUMPRIG_BENCH_BUILD picks the build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build="${PUMPRIG_BENCH_BUILD:-$root/build-bench}"  # any Release build folder will do
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
# -j2 at most: the machine's two cores are shared.
cmake --build "$build" --target pumprig-bench pumprig-sim -j2 >/dev/null

table=$(mktemp)
trap 'rm -f "$table"' EXIT
"$build/bench/pumprig-bench" --markdown "$table" "$@"

update_docs=1
for a in "$@"; do
  case "$a" in --quick|--only|--only=*) update_docs=0 ;; esac
done
doc="$root/docs/performance.md"
if [[ $update_docs == 1 && -f "$doc" ]] && grep -q '<!-- bench:begin -->' "$doc"; then
  stamp="Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores ($(uname -r)), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), by \`tools/bench.sh\`."
  awk -v table="$table" -v stamp="$stamp" '
    /<!-- bench:begin -->/ { print; print ""; print stamp; print ""; while ((getline line < table) > 0) print line; print ""; skip = 1; next }
    /<!-- bench:end -->/ { skip = 0 }
    !skip { print }
  ' "$doc" >"$doc.new"
  mv "$doc.new" "$doc"
  echo "docs/performance.md updated" >&2
fi
