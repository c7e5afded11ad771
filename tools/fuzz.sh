#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer (the module libraries too, in a build directory of their own), then
# runs each target from its corpus in tests/fuzz/corpus/<target>/: for a while (--seconds), or,
# deterministically, the corpus plus a fixed number of generated inputs (--runs N, fixed seed,
# a fresh work folder each time: the same commit gives the same inputs, as CTest needs).
# Fails on any crash, hang, leak or sanitizer report; the input that caused it is saved under
# <build dir>/artifacts/<target>/ and named in the output. The seed corpora are never written
# to: new inputs go to <build dir>/corpus/<target>/.
#
#   tools/fuzz.sh [--seconds N | --runs N] [--build-dir DIR] [--jobs J] [--only TARGET] [--build-only]
#   tools/fuzz.sh --reproduce TARGET FILE      # run one saved input again, with the report
#
# CTest runs `tools/fuzz.sh --runs 20000` (test fuzz_short); longer fuzzing, bounded by time,
# is `tools/fuzz.sh --seconds N` by hand or in a nightly job.
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=$(pwd)

seconds=60
runs=0
build_dir="$source_dir/build-fuzz"
jobs=2
only=""
build_only=0
reproduce=()
while (($#)); do
    case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --reproduce) reproduce=("$2" "$3"); shift 3 ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1' (expected --seconds N, --runs N, --build-dir DIR, --jobs J, --only TARGET, --build-only or --reproduce TARGET FILE)" >&2; exit 2 ;;
    esac
done
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "fuzz.sh: --seconds needs a whole number above 0, got '$seconds'" >&2; exit 2; }
[[ "$runs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --runs needs a whole number, got '$runs'" >&2; exit 2; }
[[ "$jobs" =~ ^[0-9]+$ && "$jobs" -gt 0 ]] || { echo "fuzz.sh: --jobs needs a whole number above 0, got '$jobs'" >&2; exit 2; }

targets=(fuzz_pump_frame fuzz_pump_driver fuzz_scenario fuzz_meter_registers fuzz_meter_profile)
if [[ -n "$only" ]]; then
    [[ " ${targets[*]} " == *" $only "* ]] || { echo "fuzz.sh: unknown target '$only' (expected one of: ${targets[*]})" >&2; exit 2; }
    targets=("$only")
fi

# clang 16 (Debian 12: clang-16, libclang-rt-16-dev). Older clang cannot use libstdc++ 12's
# std::expected; clang 16 implements what it needs (conditionally trivial special members,
# P0848) but still announces concepts as 201907, which makes <expected> hide itself: the
# feature macro is raised to the value libstdc++ checks for.
cxx=""
for c in clang++-16 clang++; do
    if command -v "$c" >/dev/null && "$c" --version | grep -q "version 1[6-9]"; then cxx=$(command -v "$c"); break; fi
done
[[ -n "$cxx" ]] || { echo "fuzz.sh: needs clang++ 16 or later with libFuzzer (Debian 12: apt-get install clang-16 libclang-rt-16-dev)" >&2; exit 2; }

# Line tables are enough for symbolized reports and build faster than full -g (CI budget).
flags="-O1 -gline-tables-only -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
flags+=" -fsanitize=fuzzer-no-link -Wno-macro-redefined -D__cpp_concepts=202002L"
start=$SECONDS
mkdir -p "$build_dir"
cmake -S "$source_dir" -B "$build_dir" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug \
    -DBUILD_TESTING=OFF -DPUMPRIG_FUZZ=ON -DCMAKE_CXX_FLAGS="$flags" >"$build_dir/configure.log" 2>&1 ||
    { cat "$build_dir/configure.log" >&2; echo "fuzz.sh: configure failed" >&2; exit 1; }
# Only the fuzz targets and the libraries they link: no executables, no tests.
cmake --build "$build_dir" --target "${targets[@]}" -j"$jobs" >"$build_dir/build.log" 2>&1 ||
    { tail -n 60 "$build_dir/build.log" >&2; echo "fuzz.sh: build failed (log: $build_dir/build.log)" >&2; exit 1; }
echo "fuzz.sh: built ${#targets[@]} targets with $cxx in $((SECONDS - start)) s"
((build_only)) && exit 0

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Reports name functions and lines only with a symbolizer (Debian: llvm-symbolizer-16 or the
# unversioned one from the llvm package).
for s in llvm-symbolizer-16 /usr/lib/llvm-16/bin/llvm-symbolizer llvm-symbolizer; do
    if command -v "$s" >/dev/null; then export ASAN_SYMBOLIZER_PATH="$(command -v "$s")"; break; fi
done

if ((${#reproduce[@]})); then
    exec "$build_dir/tests/fuzz/${reproduce[0]}" -runs=1 "${reproduce[1]}"
fi

# Per-target input size limits: a frame line is at most 256 bytes, a device script a few
# dozen lines, a scenario a few kB.
max_len() {
    case "$1" in
    fuzz_pump_frame) echo 1024 ;;
    fuzz_pump_driver) echo 4096 ;;
    fuzz_scenario) echo 8192 ;;
    fuzz_meter_registers) echo 256 ;;
    fuzz_meter_profile) echo 8192 ;;
    esac
}

run_one() {
    local t="$1"
    local work="$build_dir/corpus/$t" artifacts="$build_dir/artifacts/$t" log="$build_dir/logs/$t.log"
    mkdir -p "$work" "$artifacts" "$(dirname "$log")"
    local dict=()
    [[ -f "$source_dir/tests/fuzz/dict/$t.dict" ]] && dict=(-dict="$source_dir/tests/fuzz/dict/$t.dict")
    # -seed fixed: a run is repeatable for the same binary and corpus (and, by time, the same time).
    local bound=(-max_total_time="$seconds")
    if ((runs > 0)); then
        # The seed corpus replayed, then `runs` generated inputs, from an empty work folder: what
        # earlier runs found must not change what this one tries.
        rm -rf "$work" && mkdir -p "$work"
        local seeds
        seeds=$(find "$source_dir/tests/fuzz/corpus/$t" -type f | wc -l)
        bound=(-runs="$((seeds + runs))")
    fi
    rm -f "$log.rc"
    local rc=0
    "$build_dir/tests/fuzz/$t" "$work" "$source_dir/tests/fuzz/corpus/$t" "${dict[@]}" \
        -seed=1 "${bound[@]}" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || rc=$?
    echo "$rc" >"$log.rc"
}

# Targets run side by side, at most --jobs at a time (each is single-threaded).
for t in "${targets[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
    run_one "$t" &
done
wait

failed=0
for t in "${targets[@]}"; do
    log="$build_dir/logs/$t.log"
    if [[ "$(cat "$log.rc" 2>/dev/null)" == 0 ]]; then
        execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
        if ((runs > 0)); then echo "fuzz.sh: $t: ok ($execs inputs: the corpus and $runs generated, seed 1)"
        else echo "fuzz.sh: $t: ok ($execs inputs in ${seconds} s)"; fi
    else
        failed=1
        echo "fuzz.sh: $t: FAILED (log: $log)"
        grep -E 'ERROR|SUMMARY|FUZZ_CHECK|runtime error|Test unit written' "$log" | head -n 20 | sed 's/^/    /' || true
        for f in "$build_dir/artifacts/$t"/*; do
            [[ -e "$f" ]] && echo "    saved input: $f (again: tools/fuzz.sh --build-dir $build_dir --reproduce $t $f)"
        done
    fi
done
echo "fuzz.sh: done in $((SECONDS - start)) s"
exit "$failed"
