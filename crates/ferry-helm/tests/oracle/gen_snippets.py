#!/usr/bin/env python3
"""Regenerates tests/data/oracle/snippets.expected.json with the real Helm SDK.

    tests/oracle/gen_snippets.py [HELM_RENDER]

HELM_RENDER defaults to ../../shared/oracles/helm-render relative to the workspace. Snippets come
from tests/data/oracle/snippets.txt:

    === name
    --- values          (optional: the chart's values.yaml)
    a: 1
    --- template
    {{ .Values.a }}

Snippets that render are put in one chart (one template each) and rendered in one call;
snippets expected to fail (the oracle errors on them) are re-rendered alone to record the
error. The output maps each name to {"out": text} or {"err": message}."""
import json, os, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
crate = os.path.dirname(os.path.dirname(here))
render = sys.argv[1] if len(sys.argv) > 1 else os.path.join(crate, "..", "..", "..", "shared", "oracles", "helm-render")
src = os.path.join(crate, "tests", "data", "oracle", "snippets.txt")
dst = os.path.join(crate, "tests", "data", "oracle", "snippets.expected.json")

def parse(text):
    snippets, cur, section = [], None, None
    for line in text.split("\n"):
        if line.startswith("=== "):
            cur = {"name": line[4:].strip(), "values": [], "template": []}
            snippets.append(cur)
            section = None
        elif line.startswith("--- ") and cur is not None and line[4:].strip() in ("values", "template"):
            section = line[4:].strip()
        elif cur is not None and section:
            cur[section].append(line)
    for s in snippets:
        s["values"] = "\n".join(s["values"])
        # a template keeps its text exactly; the file's last newline before the next === is dropped
        s["template"] = "\n".join(s["template"])
        if s["template"].endswith("\n"):
            s["template"] = s["template"][:-1]
    return snippets

def chart(snips, values):
    d = tempfile.mkdtemp()
    os.makedirs(os.path.join(d, "c", "templates"))
    with open(os.path.join(d, "c", "Chart.yaml"), "w") as f:
        f.write("apiVersion: v2\nname: c\nversion: 0.1.0\nappVersion: \"1.0\"\n")
    with open(os.path.join(d, "c", "values.yaml"), "w") as f:
        f.write(values)
    for s in snips:
        with open(os.path.join(d, "c", "templates", s["name"] + ".yaml"), "w") as f:
            f.write(s["template"])
    return os.path.join(d, "c")

def run(path):
    r = subprocess.run([render, path, "--json", "--name", "demo", "--namespace", "apps"], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr.strip()

def strip_prefix(err, path):
    p = "helm: rendering " + path + ": "
    return err[len(p):] if err.startswith(p) else err

snippets = parse(open(src).read())
shared = next((s["values"] for s in snippets if s["name"] == "_values"), "")
snippets = [s for s in snippets if s["name"] != "_values"]
result = {}
# snippets with their own values render alone
batch = [s for s in snippets if not s["values"].strip()]
for s in snippets:
    if s["values"].strip():
        path = chart([s], s["values"])
        code, out, err = run(path)
        result[s["name"]] = {"err": strip_prefix(err, path)} if code else {"out": json.loads(out).get("c/templates/" + s["name"] + ".yaml")}
# the others render together with the shared values; a failing one is taken out and
# rendered alone to record its error
while batch:
    path = chart(batch, shared)
    code, out, err = run(path)
    if not code:
        rendered = json.loads(out)
        for s in batch:
            result[s["name"]] = {"out": rendered.get("c/templates/" + s["name"] + ".yaml")}
        break
    culprit = next((s for s in batch if "c/templates/" + s["name"] + ".yaml" in err), None)
    if culprit is None:
        sys.exit("cannot tell which snippet failed: " + err)
    batch.remove(culprit)
    single = chart([culprit], shared)
    code, out, err = run(single)
    result[culprit["name"]] = {"err": strip_prefix(err, single)} if code else {"out": json.loads(out).get("c/templates/" + culprit["name"] + ".yaml")}
with open(dst, "w") as f:
    json.dump(result, f, indent=1, sort_keys=True)
    f.write("\n")
print(f"{len(result)} snippets written to {dst}")
