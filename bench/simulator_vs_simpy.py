"""Simulator speed against SimPy, side by side, on the same M/M/N model.

Runs `switchboard simulate` on examples/mmn.toml stretched to --hours, and
bench/simpy_mmn.py with the same parameters, each --repeat times, and
prints contacts per second of wall time for both and the ratio.

    python3 bench/simulator_vs_simpy.py --hours 2000
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_switchboard(binary: str, hours: float) -> tuple[float, dict]:
    with open(os.path.join(ROOT, "examples", "mmn.toml")) as f:
        text = f.read().replace("duration_hours = 200", f"duration_hours = {hours}")
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(text)
        path = f.name
    try:
        started = time.perf_counter()
        out = subprocess.run([binary, "simulate", path, "--json"], check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - started
    finally:
        os.unlink(path)
    report = json.loads(out)
    return report["contacts"] / wall, report["queues"][0]["total"]


def run_simpy(hours: float) -> tuple[float, dict]:
    script = os.path.join(ROOT, "bench", "simpy_mmn.py")
    out = subprocess.run([sys.executable, script, "--hours", str(hours)], check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    return result["contacts_per_second"], result


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--hours", type=float, default=2000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "switchboard"))
    a = p.parse_args()
    ours = [run_switchboard(a.binary, a.hours) for _ in range(a.repeat)]
    theirs = [run_simpy(a.hours) for _ in range(a.repeat)]
    sb = statistics.median(r[0] for r in ours)
    sp = statistics.median(r[0] for r in theirs)
    print(json.dumps({
        "hours": a.hours,
        "switchboard_contacts_per_second": round(sb),
        "simpy_contacts_per_second": round(sp),
        "ratio": round(sb / sp, 1),
        "switchboard_service_level": ours[0][1]["service_level"],
        "simpy_service_level": theirs[0][1]["service_level"],
        "switchboard_asa_seconds": ours[0][1]["asa_seconds"],
        "simpy_asa_seconds": theirs[0][1]["asa_seconds"],
    }, indent=2))


if __name__ == "__main__":
    main()
