#!/usr/bin/python3
"""The scenario library at line noise against the clean run (issue 15, docs/reliability.md).

Runs the scenarios twice on the simulated bench in virtual time (rig/sim.json), with the same
seed: clean, and with --corrupt-rate R on both links (pumprig-sim's link faults). Compares the
verdicts per scenario and per check, and checks that every run started and ended with the pump
confirmed stopped. Prints one line per scenario (verdicts equal or what differs, wall seconds,
link counters) and the totals. Exit 0 when every verdict is equal, the pump was confirmed stopped
at every start and end, and the noise was real; 1 otherwise.

    tools/noise_library.py --build build                      # the whole library, 1 %
    tools/noise_library.py --build build --exclude accuracy-24h --exclude retry-and-resend
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent


def library(include, exclude):
    files = sorted((SOURCE / "scenarios").rglob("*.json"))
    names = {f.stem: f for f in files}
    for n in include + exclude:
        if n not in names:
            raise SystemExit(f"noise_library: no scenario {n} under {SOURCE / 'scenarios'} (have: {', '.join(sorted(names))})")
    chosen = include or list(names)
    return [names[n] for n in chosen if n not in exclude]


def noisy_rig(path, rate):
    rig = json.loads((SOURCE / "rig" / "sim.json").read_text())
    rig["name"] = "sim-noisy"
    rig["simulator"]["faults"] = ["--corrupt-rate", str(rate)]
    path.write_text(json.dumps(rig))
    return path


def run_all(pumprig, rig, scenarios, out, seed):
    """One pumprig run per scenario (its own wall time), records by scenario name."""
    results = {}
    for f in scenarios:
        t0 = time.monotonic()
        p = subprocess.run([pumprig, "run", "--quiet", "--rig", str(rig), "--seed", str(seed), "--out", str(out / f.stem), str(f)],
                           cwd=SOURCE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
        wall = time.monotonic() - t0
        dirs = [d for d in (out / f.stem).iterdir() if (d / "record.json").exists()] if (out / f.stem).exists() else []
        record = json.loads((dirs[0] / "record.json").read_text()) if len(dirs) == 1 else None
        results[f.stem] = {"wall": wall, "exit": p.returncode, "record": record, "err": p.stderr[-2000:]}
    return results


def verdicts(record):
    return {c["id"]: (c["verdict"], c.get("detail", "")) for c in record["checks"]} if record else {}


def stopped(record):
    ok = lambda part: isinstance(record.get(part), dict) and record[part].get("confirmed_stopped") is True
    return record is not None and ok("initial_state") and ok("safe_stop")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(SOURCE / "build"), help="the build folder (pumprig, pumprig-sim)")
    ap.add_argument("--rate", type=float, default=0.01, help="probability of corrupting each byte, both links (default 0.01)")
    ap.add_argument("--seed", type=int, default=1, help="the run seed, the same for both (default 1)")
    ap.add_argument("--only", action="append", default=[], help="a scenario by name (repeatable; default: the whole library)")
    ap.add_argument("--exclude", action="append", default=[], help="leave a scenario out (repeatable)")
    ap.add_argument("--keep", help="keep the run folders here instead of a temporary folder")
    a = ap.parse_args()
    pumprig = str(Path(a.build).resolve() / "pumprig")
    os.environ["PUMPRIG_SIM_BINARY"] = str(Path(a.build).resolve() / "pumprig-sim")
    scenarios = library(a.only, a.exclude)
    with tempfile.TemporaryDirectory(prefix="noise-library-") as tmp:
        root = Path(a.keep) if a.keep else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        clean = run_all(pumprig, SOURCE / "rig" / "sim.json", scenarios, root / "clean", a.seed)
        t_clean = time.monotonic() - t0
        noisy = run_all(pumprig, noisy_rig(root / "noisy.json", a.rate), scenarios, root / "noisy", a.seed)
        t_noisy = time.monotonic() - t0 - t_clean
    equal, problems, crc, meter_retries = 0, 0, 0, 0
    print(f"{'scenario':28} {'verdicts':10} {'clean s':>8} {'noisy s':>8} {'pump crc':>8} {'timeouts':>8} {'meter retries':>13}")
    for f in scenarios:
        c, n = clean[f.stem], noisy[f.stem]
        cv, nv = verdicts(c["record"]), verdicts(n["record"])
        diffs = [f"{k}: clean {cv.get(k, ('missing',))[0]}, noisy {nv.get(k, ('missing', ''))[0]} {nv.get(k, ('', ''))[1][:160]}"
                 for k in sorted(set(cv) | set(nv)) if cv.get(k, ("",))[0] != nv.get(k, ("",))[0]]
        links = (n["record"] or {}).get("links", {})
        crc += links.get("pump", {}).get("crc_errors", 0)
        meter_retries += links.get("meter", {}).get("retries", 0)
        same = not diffs and c["record"] and n["record"] and c["record"]["outcome"] == n["record"]["outcome"]
        equal += bool(same)
        print(f"{f.stem:28} {'equal' if same else 'DIFFER':10} {c['wall']:8.1f} {n['wall']:8.1f} {links.get('pump', {}).get('crc_errors', 0):8} "
              f"{links.get('pump', {}).get('timeouts', 0):8} {links.get('meter', {}).get('retries', 0):13}")
        for d in diffs:
            print(f"    {d}")
        for name, r in (("clean", c), ("noisy", n)):
            if not stopped(r["record"]):
                problems += 1
                rec = r["record"] or {}
                print(f"    {name}: pump NOT confirmed stopped or no record: start {rec.get('initial_state')}, end {rec.get('safe_stop')} {r['err'][-400:]}")
        if not same:
            problems += 1
    print(f"verdicts equal: {equal} of {len(scenarios)} scenarios; wall time clean {t_clean:.0f} s, noisy {t_noisy:.0f} s "
          f"(corrupt rate {a.rate}, seed {a.seed}); pump CRC errors {crc}, meter retries {meter_retries}")
    if crc < 10 * len(scenarios) or meter_retries < 10 * len(scenarios):
        print("the noise was not real: too few CRC errors or meter retries")
        problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
