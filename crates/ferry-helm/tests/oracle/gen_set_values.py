#!/usr/bin/env python3
"""Regenerates tests/data/oracle/set-values.expected.json with the real Helm SDK's --set parser.

    tests/oracle/gen_set_values.py

Each line of tests/data/oracle/set-values.txt ("set EXPR" or "string EXPR") goes through
strvals.Parse / strvals.ParseString of Helm v4 (libhelm_c, see sdk.py); the output maps the line
to {"out": parsed values} or {"err": Helm's message}."""
import json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import sdk

data = os.path.join(os.path.dirname(here), "data", "oracle")
result = {}
for line in open(os.path.join(data, "set-values.txt")).read().split("\n"):
    if not line.strip() or line.startswith("#"):
        continue
    kind, expr = line.split(" ", 1)
    try:
        result[line] = {"out": sdk.strvals(expr, string_only=(kind == "string"))}
    except sdk.HelmError as e:
        result[line] = {"err": str(e)}
with open(os.path.join(data, "set-values.expected.json"), "w") as f:
    json.dump({"helm": sdk.version(), "cases": result}, f, indent=1, sort_keys=True)
    f.write("\n")
print(f"{len(result)} expressions written")
