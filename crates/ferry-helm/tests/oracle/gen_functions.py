#!/usr/bin/env python3
"""Regenerates tests/data/oracle/functions.expected.json: which names the real Helm SDK lets a
template call.

    tests/oracle/gen_functions.py

For each name of tests/data/oracle/functions.txt, a one-template chart holding
`{{ if false }}{{ NAME }}{{ end }}` is rendered by Helm v4 (libhelm_c, see sdk.py): parsing fails
with `function "NAME" not defined` for a name Helm does not define, and the template is never
executed, so the function's arguments do not matter. The output maps each name to
{"defined": true} or {"defined": false, "err": Helm's message}."""
import json, os, shutil, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import sdk

data = os.path.join(os.path.dirname(here), "data", "oracle")
names = [l.strip() for l in open(os.path.join(data, "functions.txt")) if l.strip() and not l.startswith("#")]
tmp = tempfile.mkdtemp()
chart = os.path.join(tmp, "c")
os.makedirs(os.path.join(chart, "templates"))
with open(os.path.join(chart, "Chart.yaml"), "w") as f:
    f.write("apiVersion: v2\nname: c\nversion: 0.1.0\n")
result = {}
for name in names:
    with open(os.path.join(chart, "templates", "t.yaml"), "w") as f:
        f.write("{{ if false }}{{ " + name + " }}{{ end }}")
    handle = sdk.load(chart)
    try:
        sdk.render(handle, {}, {"name": "demo", "namespace": "apps", "is_install": True})
        result[name] = {"defined": True}
    except sdk.HelmError as e:
        result[name] = {"defined": False, "err": str(e)}
    finally:
        sdk.free(handle)
shutil.rmtree(tmp)
with open(os.path.join(data, "functions.expected.json"), "w") as f:
    json.dump({"helm": sdk.version(), "functions": result}, f, indent=1, sort_keys=True)
    f.write("\n")
print(f"{sum(v['defined'] for v in result.values())} of {len(result)} names defined")
