#!/usr/bin/env python3
"""Regenerates tests/data/cli/*/expected.yaml: what `helm template` prints for the flags in
each case's args.txt, made by the real Helm SDK (libhelm_c, see sdk.py).

    tests/oracle/gen_cli.py

args.txt holds `ferry build helm` arguments, one per line, paths relative to tests/data. The
values are merged as Helm's CLI merges them (values files in order, maps merged recursively,
then each --set / --set-string parsed by Helm's own strvals parser and merged in; the cases set
no list indices into lists from files, where strvals.ParseInto would differ from a merge). The
chart is then installed with a client-only dry run, as `helm template` does, with the release
name, namespace, --kube-version and --api-versions. expected.yaml is the release manifest
(trimmed, plus a newline) followed, unless --no-hooks, by the hooks as `helm template` prints
them: "---\\n# Source: <path>\\n<hook document>\\n", each document split off as Helm 4's
SplitManifests does (leading whitespace trimmed, trailing kept). The SDK's release JSON does not carry the
hooks, so they are taken from the SDK's render of the same values, split and picked out by
their helm.sh/hook annotation; every hook of a case has the same kind, so Helm's stable sort
by kind keeps them in template path order. Lines that differ between two renders (randAlphaNum
in a name...) are listed in random-lines.txt (1-based); the test only checks their length."""
import argparse, json, os, re, sys
import yaml

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import sdk

data = os.path.join(os.path.dirname(here), "data")


def merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            merge(dst[k], v)
        else:
            dst[k] = v


def hooks(rendered):
    out, kinds = [], set()
    for path in sorted(rendered):
        if path.endswith("NOTES.txt") or os.path.basename(path).startswith("_"):
            continue
        # Helm 4's SplitManifests: leading whitespace trimmed, trailing whitespace kept
        for doc in re.split(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*", rendered[path].lstrip()):
            if not doc.strip():
                continue
            doc = doc.lstrip()
            obj = yaml.safe_load(doc)
            ann = ((obj or {}).get("metadata") or {}).get("annotations") or {}
            if "helm.sh/hook" in ann:
                kinds.add(obj.get("kind"))
                out.append(f"---\n# Source: {path}\n{doc}\n")
    if len(kinds) > 1:
        sys.exit(f"hooks of several kinds {kinds}: the generator does not sort them")
    return "".join(out)


def case(dir):
    args = [l for l in open(os.path.join(dir, "args.txt")).read().split("\n") if l]
    ap = argparse.ArgumentParser()
    ap.add_argument("chart")
    ap.add_argument("-f", "--values", action="append", default=[])
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--set-string", action="append", default=[])
    ap.add_argument("--name", default="release-name")
    ap.add_argument("-n", "--namespace", default="default")
    ap.add_argument("--kube-version")
    ap.add_argument("-a", "--api-versions", action="append", default=[])
    ap.add_argument("--no-hooks", action="store_true")
    a = ap.parse_args(args)
    values = {}
    for f in a.values:
        merge(values, yaml.safe_load(open(os.path.join(data, f))) or {})
    # Helm applies every --set before any --set-string
    for s in a.set:
        merge(values, sdk.strvals(s))
    for s in a.set_string:
        merge(values, sdk.strvals(s, string_only=True))
    chart = os.path.join(data, a.chart)
    opts = {"namespace": a.namespace}
    if a.kube_version:
        opts["kube_version"] = a.kube_version
    if a.api_versions:
        opts["api_versions"] = a.api_versions
    def once():
        rel = sdk.template(chart, a.name, values, opts)
        out = rel["manifest"].strip() + "\n"
        if not a.no_hooks:
            handle = sdk.load(chart)
            try:
                out += hooks(sdk.render(handle, values, {"name": a.name, "namespace": a.namespace, "is_install": True}))
            finally:
                sdk.free(handle)
        return out

    out, again = once(), once()
    first, second = out.split("\n"), again.split("\n")
    if len(first) != len(second):
        sys.exit(f"{dir}: two renders differ in line count; cannot mask")
    random = [str(i + 1) for i, (x, y) in enumerate(zip(first, second)) if x != y]
    with open(os.path.join(dir, "expected.yaml"), "w") as f:
        f.write(out)
    rl = os.path.join(dir, "random-lines.txt")
    if random:
        with open(rl, "w") as f:
            f.write("\n".join(random) + "\n")
    elif os.path.exists(rl):
        os.remove(rl)
    with open(os.path.join(dir, "helm-version.txt"), "w") as f:
        f.write(sdk.version() + "\n")


root = os.path.join(data, "cli")
for name in sorted(os.listdir(root)):
    if os.path.isdir(os.path.join(root, name)):
        case(os.path.join(root, name))
        print("wrote", name)
