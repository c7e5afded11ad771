#!/usr/bin/python3
"""Population studies on the simulated bench (docs/detection-power.md).

    tools/study.py false-alarm --units 200 [--channels 4] [--first-seed 1] [SCENARIO...]
    tools/study.py corners [SCENARIO...]
    tools/study.py sweep --defect rate_error:0.1,0.2,0.5 --defect stall:5,10,20 --units 20 [--channels 4]
    tools/study.py plot SWEEP.csv... --csv ALL.csv --svg ALL.svg

false-alarm  runs conforming units, each drawn from the population with its own (seed, serial),
             through the scenario library (several channels of the simulated bench at once: a
             channel is a unit) and reports every FAIL with its check, measured value and limits.
             Exit 0 only when no scenario FAILed or ERRORed.
corners      the same for units pinned at the corners of the population (delivery -14.9 % and
             +14.9 %, clock -50 and +50 ppm, line constant at both ends of its uncertainty, meter
             error at both ends of its accuracy): eight channels, one corner each.
sweep        gives every unit the defect at each magnitude, runs the defect's intended scenario
             (tests/integration/defects_intended.json) and counts the units whose intended check
             FAILed. Writes CSV and an SVG plot of detection probability against magnitude, and
             names the smallest magnitude caught in at least 95 % of the units.
plot         merges the CSV files of several sweeps (same defect and magnitude: units and catches
             add up) into one table, CSV and plot.

Every run prints its throughput (scenario runs per wall minute). Needs build/pumprig and
build/pumprig-sim (--build DIR).
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The corners of the population (src/bench/population.cpp, docs/simulator.md): each a unit with
# one requirement at its limit, the rest of the unit drawn as usual.
CORNERS = [
    ("delivery -14.9 %", ["delivery_error_pct=-14.9"]),
    ("delivery +14.9 %", ["delivery_error_pct=14.9"]),
    ("clock -50 ppm", ["clock_ppm=-50"]),
    ("clock +50 ppm", ["clock_ppm=50"]),
    ("line tau -30 %", ["line_tau_error_pct=-30"]),
    ("line tau +30 %", ["line_tau_error_pct=30"]),
    ("meter -0.5 % -0.1 uL/h", ["meter_gain_error_pct=-0.5", "meter_offset_ul_h=-0.1"]),
    ("meter +0.5 % +0.1 uL/h", ["meter_gain_error_pct=0.5", "meter_offset_ul_h=0.1"]),
]


def write_rig(folder, channels, pins=(), name="study"):
    """A simulated bench of `channels` channels (serials SIM0001.. ), the realistic population;
    pins[k] the NAME=VALUE pins of channel k+1's unit (the rig's "simulator": {"unit": ...})."""
    rig = {
        "name": name,
        "description": "tools/study.py: a simulated bench, each channel a unit of the population",
        "simulator": {"time": "virtual", "pump_model": "ITB-40"},
        "line": {"tau_s": 20.0, "tau_uncertainty_pct": 30},
        "pump": {"backend": "termios", "key": {"test_key": True}},
        "meter": {"link": "rtu", "parity": "none", "profile": "fixtures/meters/lf-2000.json"},
    }
    def unit(k):
        return {p.split("=")[0]: float(p.split("=")[1]) for p in (pins[k - 1] if k - 1 < len(pins) else [])}
    if channels > 1:
        rig["channels"] = [{"name": f"U{k}", "simulator": {"pump_serial": f"SIM{k:04d}", "unit": unit(k)}}
                           for k in range(1, channels + 1)]
    else:
        rig["simulator"]["pump_serial"] = "SIM0001"
        rig["simulator"]["unit"] = unit(1)
    path = os.path.join(folder, f"{name}.json")
    with open(path, "w") as f:
        json.dump(rig, f, indent=1)
    return path


def show_units(build, seed, channels, unit_args):
    """Each channel's unit as pumprig-sim draws it: {channel number: "name=value ..."}."""
    args = [os.path.join(build, "pumprig-sim"), "--show-unit", "--seed", str(seed), "--channels", str(channels)]
    for k in range(1, channels + 1):
        args += ["--pump-serial", f"{k}@SIM{k:04d}"]
    args += list(unit_args)
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    units = {}
    for line in out.splitlines():
        head, _, rest = line.partition(" ")
        units[int(head.split(".")[1])] = rest
    return units


def run_pumprig(build, rig, seed, out, scenarios, defect=None):
    args = [os.path.join(build, "pumprig"), "run", "--rig", rig, "--seed", str(seed), "--out", out]
    if defect:
        args += ["--defect", defect]
    env = dict(os.environ, PUMPRIG_SIM_BINARY=os.path.join(build, "pumprig-sim"))
    r = subprocess.run(args + scenarios, capture_output=True, text=True, env=env, cwd=SOURCE)
    if r.returncode not in (0, 1, 3):
        sys.stderr.write(r.stderr[-3000:])
        raise SystemExit(f"study: pumprig run exited {r.returncode} (seed {seed})")
    return records(out)


def records(root):
    """Every record.json below root: (channel name, scenario name, record)."""
    out = []
    for entry in sorted(os.listdir(root)):
        path = os.path.join(root, entry, "record.json")
        if os.path.exists(path):
            with open(path) as f:
                rec = json.load(f)
            out.append((rec.get("rig", {}).get("channel", ""), rec["scenario"]["name"], rec))
    return out


def channel_number(name):
    return int(name[1:]) if name.startswith("U") else 1


def shorten(pair):
    """name=1.2345678901 -> name=1.235"""
    name, _, value = pair.partition("=")
    if name in ("seed", "serial"):
        return pair
    try:
        return f"{name}={float(value):.4g}"
    except ValueError:
        return pair


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def conforming(args, units_pins, label_of):
    """Runs units (each a list of --unit pins, per channel) through the library; returns exit code."""
    build, scenarios = args.build, args.scenarios or [os.path.join(SOURCE, "scenarios")]
    t0 = time.monotonic()
    runs = fails = errors = 0
    rows = []
    params = {}  # unit -> its parameters, for the units that FAILed
    with tempfile.TemporaryDirectory(prefix="pumprig-study-") as tmp:
        batches = [units_pins[i:i + args.channels] for i in range(0, len(units_pins), args.channels)]
        for b, batch in enumerate(batches):
            seed = args.first_seed + b
            unit_args = []
            for k, pins in enumerate(batch, start=1):
                for p in pins:
                    unit_args += ["--unit", f"{k}@{p}"]
            rig = write_rig(tmp, len(batch), batch, name=f"study-{b}")
            out = os.path.join(tmp, f"out-{b}")
            os.makedirs(out)
            units = show_units(build, seed, len(batch), unit_args)
            for channel, scenario, rec in run_pumprig(build, rig, seed, out, scenarios):
                runs += 1
                k = channel_number(channel) if channel else 1
                who = f"seed {seed} SIM{k:04d}" + (f" ({label_of(b * args.channels + k - 1)})" if label_of else "")
                if rec["outcome"] == "ERROR":
                    errors += 1
                    params[who] = units[k]
                    rows.append((who, scenario, "ERROR", rec.get("error", "").replace("|", "/"), "", "", ""))
                for c in rec["checks"]:
                    if c["verdict"] == "FAIL":
                        fails += 1
                        params[who] = units[k]
                        rows.append((who, scenario, c["id"], fmt(c.get("measured")), fmt(c.get("lower")), fmt(c.get("upper")),
                                     c.get("unit", "")))
            print(f"  batch {b + 1}/{len(batches)}: seed {seed}, {len(batch)} units, {runs} scenario runs so far, "
                  f"{fails} FAIL, {errors} ERROR", file=sys.stderr, flush=True)
    minutes = (time.monotonic() - t0) / 60
    print(f"units: {len(units_pins)}  scenario runs: {runs}  FAIL checks: {fails}  ERROR runs: {errors}")
    print(f"throughput: {runs / minutes:.1f} scenario runs per wall minute ({minutes:.1f} min, {args.channels} channels a run)")
    if rows:
        print("\n| unit | scenario | check | measured | lower | upper | in |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        print("\nUnits with a FAIL or ERROR (pumprig-sim --show-unit):")
        for who, p in params.items():
            print(f"- {who}: {' '.join(shorten(x) for x in p.split())}")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["unit", "scenario", "check", "measured", "lower", "upper", "unit_of_measure", "unit_parameters"])
            w.writerows(r + (params[r[0]],) for r in rows)
    return 0 if fails == 0 and errors == 0 else 1


def intended(defect):
    with open(os.path.join(SOURCE, "tests/integration/defects_intended.json")) as f:
        table = json.load(f)["defects"]
    if defect not in table:
        raise SystemExit(f"study: no intended scenario and check for defect {defect} in tests/integration/defects_intended.json")
    return table[defect]


def scenario_path(name):
    for folder in ("functions", "eol", "long"):
        p = os.path.join(SOURCE, "scenarios", folder, name + ".json")
        if os.path.exists(p):
            return p
    raise SystemExit(f"study: no scenario {name} under scenarios/")


def sweep(args):
    t0 = time.monotonic()
    results = []  # (defect, magnitude, units, caught)
    runs = 0
    with tempfile.TemporaryDirectory(prefix="pumprig-sweep-") as tmp:
        for given in args.defect:
            defect, _, listed = given.partition(":")
            want = intended(defect)
            scenario, check = scenario_path(args.scenario or want["scenario"]), args.check or want["check"]
            magnitudes = listed or args.magnitudes
            if not magnitudes:
                raise SystemExit(f"study: no magnitudes for {defect} (--defect {defect}:M1,M2,... or --magnitudes)")
            for m in [float(x) for x in magnitudes.split(",")]:
                caught = done = unjudged = 0
                batches = math.ceil(args.units / args.channels)
                for b in range(batches):
                    n = min(args.channels, args.units - b * args.channels)
                    seed = args.first_seed + b
                    rig = write_rig(tmp, n, name=f"sweep-{n}")
                    out = tempfile.mkdtemp(dir=tmp)
                    spec = f"{defect}={m:g}"
                    for channel, _, rec in run_pumprig(args.build, rig, seed, out, [scenario], defect=spec):
                        runs += 1
                        verdict = next((c["verdict"] for c in rec["checks"] if c["id"] == check), None)
                        # A unit whose intended check could not be judged (INCONCLUSIVE, or a run
                        # ended by a bench error) says nothing about detection: it is listed, not
                        # counted as missed.
                        if verdict not in ("PASS", "FAIL"):
                            unjudged += 1
                            detail = next((c.get("detail", "") for c in rec["checks"] if c["id"] == check), rec.get("error", ""))
                            print(f"    seed {seed} {channel}: {check} {verdict or 'missing'} ({rec.get('outcome')}): {detail}", file=sys.stderr, flush=True)
                            continue
                        done += 1
                        caught += verdict == "FAIL"
                # Another scenario than the intended one: the row says which (defect@scenario).
                label = f"{defect}@{args.scenario}" if args.scenario else defect
                results.append((label, m, done, caught))
                print(f"  {defect}={m:g}: {caught}/{done} caught by {check}" + (f" ({unjudged} not judged, left out)" if unjudged else ""),
                      file=sys.stderr, flush=True)
    minutes = (time.monotonic() - t0) / 60
    print("| defect | magnitude | units | caught | probability |")
    print("|---|---|---|---|---|")
    for d, m, n, c in results:
        print(f"| `{d}` | {m:g} | {n} | {c} | {c / n:.2f} |")
    print()
    for defect in [g.partition(":")[0] + (f"@{args.scenario}" if args.scenario else "") for g in args.defect]:
        rows = [r for r in results if r[0] == defect]
        unit = intended_unit(defect)
        ok = [r[1] for r in rows if r[3] >= 0.95 * r[2]]
        smallest = min(ok, key=abs) if ok else None
        # Caught at the smallest magnitude swept: the real threshold may be smaller still.
        if smallest is not None and abs(smallest) == min(abs(r[1]) for r in rows):
            print(f"{defect}: caught in >= 95 % of units already at the smallest magnitude swept ({smallest:g} {unit})")
            continue
        print(f"{defect}: smallest magnitude caught in >= 95 % of units: "
              + (f"{smallest:g} {unit}" if smallest is not None else "none of those swept"))
    print(f"throughput: {runs / minutes:.1f} scenario runs per wall minute ({minutes:.1f} min, {args.channels} channels a run)")
    write_results(args, results)
    return 0


def write_results(args, results):
    """The sweep's (defect, magnitude, units, caught) rows as --csv and --svg, when asked for."""
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["defect", "magnitude", "units", "caught", "probability"])
            for d, m, n, c in results:
                w.writerow([d, m, n, c, f"{c / n:.4f}"])
    if args.svg:
        write_svg(args.svg, results)


def plot(args):
    merged = {}
    for path in args.scenarios:
        with open(path) as f:
            for row in csv.DictReader(f):
                key = (row["defect"], float(row["magnitude"]))
                n, c = merged.get(key, (0, 0))
                merged[key] = (n + int(row["units"]), c + int(row["caught"]))
    results = [(d, m, n, c) for (d, m), (n, c) in merged.items()]
    order = list(dict.fromkeys(d for d, _, _, _ in results))
    results.sort(key=lambda r: (order.index(r[0]), r[1]))
    print("| defect | magnitude | units | caught | probability |")
    print("|---|---|---|---|---|")
    for d, m, n, c in results:
        print(f"| `{d}` | {m:g} | {n} | {c} | {c / n:.2f} |")
    write_results(args, results)
    return 0


def intended_unit(defect):
    defect = defect.split("@")[0]
    out = subprocess.run([os.path.join(SOURCE, "build", "pumprig-sim"), "--list-defects"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith(defect + "\t") and " in " in line:
            return line.split(" in ", 1)[1].split(" ")[0]
    return ""


def write_svg(path, results):
    """Detection probability against magnitude, one panel per defect (plain SVG, no library)."""
    defects = list(dict.fromkeys(r[0] for r in results))
    pw, ph, pad = 360, 220, 45
    width, height = pw * min(2, len(defects)), ph * math.ceil(len(defects) / 2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for i, d in enumerate(defects):
        ox, oy = (i % 2) * pw, (i // 2) * ph
        rows = sorted((r for r in results if r[0] == d), key=lambda r: r[1])
        ms = [r[1] for r in rows]
        lo, hi = min(ms), max(ms)
        span = (hi - lo) or 1.0
        x = lambda m: ox + pad + (m - lo) / span * (pw - 2 * pad)
        y = lambda p: oy + ph - pad - p * (ph - 2 * pad)
        parts.append(f'<text x="{ox + pw / 2}" y="{oy + 16}" text-anchor="middle" font-weight="bold">{d}</text>')
        parts.append(f'<line x1="{x(lo)}" y1="{y(0)}" x2="{x(hi)}" y2="{y(0)}" stroke="black"/>')
        parts.append(f'<line x1="{x(lo)}" y1="{y(0)}" x2="{x(lo)}" y2="{y(1)}" stroke="black"/>')
        parts.append(f'<line x1="{x(lo)}" y1="{y(0.95)}" x2="{x(hi)}" y2="{y(0.95)}" stroke="#c33" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x(lo) - 4}" y="{y(0.95) + 4}" text-anchor="end" fill="#c33">0.95</text>')
        parts.append(f'<text x="{x(lo) - 4}" y="{y(0) + 4}" text-anchor="end">0</text>')
        parts.append(f'<text x="{x(lo) - 4}" y="{y(1) + 4}" text-anchor="end">1</text>')
        pts = " ".join(f"{x(r[1]):.1f},{y(r[3] / r[2]):.1f}" for r in rows)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
        for r in rows:
            parts.append(f'<circle cx="{x(r[1]):.1f}" cy="{y(r[3] / r[2]):.1f}" r="3" fill="#1f5fa8"/>')
            parts.append(f'<text x="{x(r[1]):.1f}" y="{y(0) + 14}" text-anchor="middle">{r[1]:g}</text>')
        parts.append(f'<text x="{ox + pw / 2}" y="{oy + ph - 8}" text-anchor="middle">magnitude ({intended_unit(d) or "-"}); '
                     f'{rows[0][2]} units a point</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["false-alarm", "corners", "sweep", "plot"])
    ap.add_argument("scenarios", nargs="*", help="scenario files or folders (default: scenarios/; sweep: the intended one)")
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--units", type=int, default=10)
    ap.add_argument("--channels", type=int, default=4, help="units run at once, one a channel (1 to 8)")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--defect", action="append", default=[], help="sweep: NAME or NAME:M1,M2,... (repeatable)")
    ap.add_argument("--magnitudes", default="", help="sweep: comma-separated magnitudes for a --defect that lists none")
    ap.add_argument("--scenario", help="sweep: another scenario than the intended one")
    ap.add_argument("--check", help="sweep: another check than the intended one")
    ap.add_argument("--csv", help="write the table as CSV here")
    ap.add_argument("--svg", help="sweep: write the detection plot here")
    args = ap.parse_args()
    if not 1 <= args.channels <= 8:
        ap.error("--channels must be 1 to 8")
    if args.mode == "false-alarm":
        if args.units < 1:
            ap.error("--units must be at least 1")
        return conforming(args, [[] for _ in range(args.units)], None)
    if args.mode == "plot":
        return plot(args)
    if args.mode == "corners":
        args.channels = len(CORNERS)
        return conforming(args, [pins for _, pins in CORNERS], lambda i: CORNERS[i][0])
    if not args.defect:
        ap.error("sweep needs --defect NAME:M1,M2,...")
    return sweep(args)


if __name__ == "__main__":
    sys.exit(main())
