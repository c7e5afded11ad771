#!/usr/bin/python3
"""Runs scenarios in virtual time and on a separately started pumprig-sim in real time
(--time realtime --speed N, the rig's time_scale N), with the same seed, and compares the
verdicts check by check (issue 19, "Sampling never waits for the pump"; docs/performance.md).

For each scenario: `pumprig run` on the default simulated bench (virtual time), then a fresh
`pumprig-sim --time realtime --speed N` started by this script, a rig naming its pseudo-terminals
with "time_scale": N, and `pumprig run --rig` on it. A scenario's "simulator" section (battery,
motor stall) is passed to the separate simulator as its options (--battery, --fault-at S:motor_stall)
and left out of a copy of the scenario, since pumprig refuses it on a bench it did not start.
Prints one line per scenario: outcome both ways, checks that differ, max_sample_gap_ms of the
real-time run, the pump link's retries, wall seconds; exit 0 when every verdict agrees.

Usage: realtime_verdicts.py --build DIR --speed N [--seed S] [--out DIR] [--parallel K] [--rt-priority P]
                            [--sim-fifo P] [--sim-arg=ARG ...] SCENARIO...
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time

SOURCE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def run_dir(root):
    dirs = [os.path.join(root, d) for d in os.listdir(root) if os.path.exists(os.path.join(root, d, "record.json"))]
    if len(dirs) != 1:
        raise RuntimeError(f"{root}: expected one run folder, found {len(dirs)}")
    with open(os.path.join(dirs[0], "record.json")) as f:
        return json.load(f)


def verdicts(record):
    return {c["id"]: c["verdict"] for c in record.get("checks", [])}


def pumprig_run(build, out, scenario, seed, rig=None, extra=()):
    argv = [os.path.join(build, "pumprig"), "run", "--seed", str(seed), "--out", out] + list(extra)
    if rig:
        argv += ["--rig", rig]
    t0 = time.monotonic()
    r = subprocess.run(argv + [scenario], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=SOURCE)
    if not os.path.isdir(out):
        raise RuntimeError(f"{scenario}: pumprig wrote no run (exit {r.returncode}): {r.stderr.strip()[-500:]}")
    return run_dir(out), time.monotonic() - t0


def realtime_run(args, scenario, out):
    with open(scenario) as f:
        sc = json.load(f)
    sim_args = list(args.sim_arg)
    setup = sc.pop("simulator", None)
    if setup:
        if "battery_pct" in setup:
            sim_args += ["--battery", str(setup["battery_pct"])]
        if "motor_stall_after" in setup:
            value, unit = setup["motor_stall_after"].split()
            seconds = float(value) * {"s": 1, "min": 60, "h": 3600}[unit]
            sim_args += ["--fault-at", f"{seconds:g}:motor_stall"]
        scenario = os.path.join(out, os.path.basename(scenario))
        with open(scenario, "w") as f:
            json.dump(sc, f, indent=2)
    # --sim-fifo: the simulator's models at SCHED_FIFO (chrt), so a loaded host does not starve them.
    chrt = ["chrt", "-f", str(args.sim_fifo)] if args.sim_fifo else []
    sim = subprocess.Popen(chrt + [os.path.join(args.build, "pumprig-sim"), "--time", "realtime", "--speed", str(args.speed),
                            "--seed", str(args.seed), "--pump-serial", "SIM0001", "--line-tau", "20",
                            "--line-tau-uncertainty", "30", "--meter-profile", "fixtures/meters/lf-2000.json"] + sim_args,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=SOURCE)
    try:
        ready = dict(kv.split("=", 1) for kv in sim.stdout.readline().split()[1:])
        rig = os.path.join(out, "rig.json")
        with open(rig, "w") as f:
            # A name of its own: pumprig locks a bench by its rig's name (runs in parallel).
            json.dump({"name": f"separate-sim-{args.speed:g}x-" + os.path.basename(out), "time_scale": args.speed, "line": {"tau_s": 20, "tau_uncertainty_pct": 30},
                       "pump": {"backend": "termios", "device": ready["pump"], "key": {"test_key": True}},
                       "meter": {"link": "rtu", "device": ready["meter"], "parity": "none",
                                 "profile": "fixtures/meters/lf-2000.json"}}, f)
        extra = ["--rt-priority", str(args.rt_priority)] if args.rt_priority else []
        return pumprig_run(args.build, os.path.join(out, "runs"), scenario, args.seed, rig, extra)
    finally:
        sim.stdin.close()  # end of input: the simulator exits
        try:
            sim.wait(timeout=20)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", required=True)
    p.add_argument("--speed", type=float, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out")
    p.add_argument("--sim-arg", action="append", default=[], help="a further pumprig-sim option (--sim-arg=--drop-rate --sim-arg=0.05)")
    p.add_argument("--rt-priority", type=int, default=0, help="pumprig run --rt-priority for the real-time runs")
    p.add_argument("--sim-fifo", type=int, default=0, help="run the simulator at SCHED_FIFO N (chrt; root or CAP_SYS_NICE)")
    p.add_argument("--parallel", type=int, default=1, help="scenarios at once (default 1)")
    p.add_argument("scenarios", nargs="+")
    args = p.parse_args()
    args.build = os.path.abspath(args.build)
    out_root = args.out or tempfile.mkdtemp(prefix="rt-verdicts-")
    print(f"speed {args.speed:g}, seed {args.seed}, rt-priority {args.rt_priority}, simulator SCHED_FIFO {args.sim_fifo or 'no'},"
          f" parallel {args.parallel}, load average {os.getloadavg()[0]:.1f}, records in {out_root}", flush=True)

    def one(scenario):
        scenario = os.path.abspath(scenario)
        name = os.path.splitext(os.path.basename(scenario))[0]
        out = os.path.join(out_root, name)
        os.makedirs(out, exist_ok=True)
        # The virtual-time record of an earlier call with the same --out is reused (it is deterministic).
        virtual_out = os.path.join(out, "virtual")
        try:
            virtual = run_dir(virtual_out)
        except (FileNotFoundError, RuntimeError):
            virtual, _ = pumprig_run(args.build, virtual_out, scenario, args.seed)
        rt, wall = realtime_run(args, scenario, out)
        vv, vr = verdicts(virtual), verdicts(rt)
        diff = sorted(k for k in set(vv) | set(vr) if vv.get(k) != vr.get(k))
        same = not diff and virtual.get("outcome") == rt.get("outcome")
        bench_s = (rt.get("end_ms", rt["start_ms"]) - rt["start_ms"]) / 1000
        print(f"{name}: virtual {virtual.get('outcome')} / realtime {rt.get('outcome')}"
              f" ({'same verdicts' if same else 'DIFFERENT: ' + ', '.join(f'{k} {vv.get(k)}->{vr.get(k)}' for k in diff)});"
              f" max gap {rt.get('max_sample_gap_ms')} ms (virtual {virtual.get('max_sample_gap_ms')});"
              f" pump retries {rt['links']['pump']['retries'] if 'links' in rt else '?'}, gaps {len(rt.get('gaps', []))};"
              f" {bench_s:.0f} bench s in {wall:.1f} wall s", flush=True)
        return same

    # Real-time runs mostly wait; --parallel runs several scenarios at once, each on its own simulator.
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.parallel) as pool:
        results = list(pool.map(one, args.scenarios))
    print(f"{sum(results)} of {len(results)} scenarios with the same verdicts; load average {os.getloadavg()[0]:.1f}", flush=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
