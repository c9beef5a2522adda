#!/usr/bin/env python3
"""Writes examples/history.csv: eight weeks of contacts offered per half hour
to a made-up queue in Europe/Berlin, the input of `switchboard plan`.

Weekdays 08:00-20:00 with a morning and an afternoon peak (Mondays busier),
Saturdays 10:00-16:00, closed on Sundays; volume grows 2 % a week; arrivals
are Poisson, handle times scatter around 5 minutes. The clocks go back on
the 25th of October, in the middle. Seeded: the file is the same each run.
"""
import math
import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/Berlin")
FIRST = datetime(2026, 10, 5, tzinfo=TZ)
WEEKS = 8


def rate(local, week):
    hour = local.hour + local.minute / 60
    day = local.weekday()
    base = 0.0
    if day < 5 and 8 <= hour < 20:
        base = 8 + 40 * math.exp(-(((hour - 10.5) / 1.5) ** 2)) + 28 * math.exp(-(((hour - 15) / 2) ** 2))
        base += 10 if day == 0 else 0
    elif day == 5 and 10 <= hour < 16:
        base = 12
    return base * 1.02 ** week


def poisson(rng, mean):
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def main():
    rng = random.Random(7)
    lines = ["start,offered,aht_seconds"]
    at = FIRST.astimezone(timezone.utc)
    end = (FIRST + timedelta(days=7 * WEEKS)).astimezone(timezone.utc)
    while at < end:
        local = at.astimezone(TZ)
        week = (local.date() - FIRST.date()).days / 7
        offered = poisson(rng, rate(local, week))
        if offered:
            aht = 300 * rng.lognormvariate(0, 0.08)
            lines.append(f"{local.isoformat()},{offered},{aht:.0f}")
        at += timedelta(minutes=30)
    with open("examples/history.csv", "w") as f:
        f.write("\n".join(lines) + "\n")


main()
