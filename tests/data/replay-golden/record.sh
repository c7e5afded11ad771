#!/bin/bash
# Records the golden run records (cases.txt) with the pumprig of BUILD_DIR: the files each run
# wrote that tests/integration/replay_golden_test.cpp compares, one folder a case (a subfolder
# a channel on a bench of several). Usage: tests/data/replay-golden/record.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(cd "${1:?usage: record.sh BUILD_DIR}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while read -r name scenario rig seed; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    # A scenario that fails its checks exits 1: its record is as golden as a passing one.
    "$build/pumprig" run --quiet --rig "$here/$rig" --seed "$seed" --out "$tmp/$name" "$here/$scenario" >/dev/null || true
    rm -rf "${here:?}/$name"
    for dir in "$tmp/$name"/*/; do
        [[ -f "$dir/record.json" ]] || continue
        channel=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["rig"].get("channel", ""))' "$dir/record.json")
        dest="$here/$name${channel:+/$channel}"
        mkdir -p "$dest"
        cp "$dir"/{record.json,samples.csv,events.jsonl,statuses.jsonl,commands.jsonl,trace.log} "$dest/"
        # Paths into the checkout (rig, scenario, meter profile) as the test compares them.
        sed -i "s#$root/#SOURCE/#g" "$dest"/*
    done
done < "$here/cases.txt"
