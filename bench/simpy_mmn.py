"""The M/M/N scenario of examples/mmn.toml as a bare SimPy model.

It is the peer the simulator benchmark is measured against: the same
arrivals (Poisson), handle times (exponential), agents and run length,
with nothing of a contact center but a resource with N servers. Prints one
JSON object with the contacts simulated, the wall time and the measured
service level and ASA, so the two runs can be compared side by side.
"""

import argparse
import json
import random
import time

import simpy


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--agents", type=int, default=14)
    p.add_argument("--calls-per-hour", type=float, default=200.0)
    p.add_argument("--aht", type=float, default=180.0)
    p.add_argument("--hours", type=float, default=200.0)
    p.add_argument("--sl-seconds", type=float, default=20.0)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()

    rng = random.Random(a.seed)
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=a.agents)
    stats = {"contacts": 0, "handled": 0, "within": 0, "wait": 0.0}
    horizon = a.hours * 3600.0

    def customer():
        arrived = env.now
        with agents.request() as req:
            yield req
            waited = env.now - arrived
            stats["handled"] += 1
            stats["wait"] += waited
            stats["within"] += waited <= a.sl_seconds
            yield env.timeout(rng.expovariate(1.0 / a.aht))

    def arrivals():
        rate = a.calls_per_hour / 3600.0
        while True:
            yield env.timeout(rng.expovariate(rate))
            if env.now >= horizon:
                return
            stats["contacts"] += 1
            env.process(customer())

    env.process(arrivals())
    started = time.perf_counter()
    env.run()
    wall = time.perf_counter() - started
    print(json.dumps({
        "contacts": stats["contacts"],
        "wall_seconds": wall,
        "contacts_per_second": stats["contacts"] / wall,
        "service_level": stats["within"] / stats["handled"],
        "asa_seconds": stats["wait"] / stats["handled"],
    }))


if __name__ == "__main__":
    main()
