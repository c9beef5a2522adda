"""Erlang C by pyworkforce (PyPI, MIT), the independent implementation our
staffing is checked against. Reads a JSON list of cases on stdin, writes a
JSON list of answers on stdout."""
import json
import sys

from pyworkforce.queuing import ErlangC

answers = []
for case in json.load(sys.stdin):
    # pyworkforce takes minutes; its "asa" is the service-level threshold.
    erlang = ErlangC(
        transactions=case["calls"],
        aht=case["aht_seconds"] / 60,
        asa=case["sl_seconds"] / 60,
        interval=case["interval_minutes"],
        shrinkage=case["shrinkage"],
    )
    required = erlang.required_positions(service_level=case["sl_target"], max_occupancy=1.0)
    answers.append(
        {
            "agents": required["raw_positions"],
            "scheduled_agents": required["positions"],
            "service_level": required["service_level"],
            "probability_wait": required["waiting_probability"],
            "occupancy": required["occupancy"],
            # Its search starts here, so it never answers fewer agents.
            "first_tried": round(erlang.intensity + 1),
        }
    )
json.dump(answers, sys.stdout)
