"""ctypes access to libhelm_c (the Helm v4 Go SDK compiled as a C library, shipped in the PyPI
wheel helm-python-sdk 0.2.2) for the generators in this directory.

The library is taken from $HELM_C_LIB, else from an installed helm_python package (scripts/test-deps
pip.txt installs it), else from the helm-render oracle's cache (~/.cache/helm-oracle)."""
import ctypes, json, os

P, H, S = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_char_p
OUT = ctypes.POINTER(P)


def _find():
    if os.environ.get("HELM_C_LIB"):
        return os.environ["HELM_C_LIB"]
    try:
        import helm_python
        return os.path.join(os.path.dirname(helm_python.__file__), "lib", "libhelm_c.so")
    except ImportError:
        cache = os.environ.get("HELM_ORACLE_CACHE", os.path.expanduser("~/.cache/helm-oracle"))
        return os.path.join(cache, "helm_python", "lib", "libhelm_c.so")


lib = ctypes.CDLL(_find())
for name, args in [
    ("helm_sdk_version", []),
    ("helm_config_new", [S, ctypes.POINTER(H), OUT]),
    ("helm_chart_load", [S, ctypes.POINTER(H), OUT]),
    ("helm_chart_free", [H, OUT]),
    ("helm_install", [H, H, H, S, S, S, S, OUT, OUT]),
    ("helm_render", [H, S, S, OUT, OUT]),
    ("helm_strvals_parse", [S, OUT, OUT]),
    ("helm_strvals_parse_string", [S, OUT, OUT]),
]:
    fn = getattr(lib, name)
    fn.restype, fn.argtypes = (P if name == "helm_sdk_version" else ctypes.c_int32), args
lib.helm_free_string.restype, lib.helm_free_string.argtypes = None, [P]


def take(ptr):
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode()
    finally:
        lib.helm_free_string(P(ptr))


class HelmError(Exception):
    pass


def version():
    return take(lib.helm_sdk_version())


def strvals(expr, string_only=False):
    """strvals.Parse (or ParseString) of one --set expression, as JSON."""
    out, err = P(), P()
    fn = lib.helm_strvals_parse_string if string_only else lib.helm_strvals_parse
    if fn(expr.encode(), ctypes.byref(out), ctypes.byref(err)):
        raise HelmError(take(err.value))
    return json.loads(take(out.value))


def load(chart):
    handle, err = H(), P()
    if lib.helm_chart_load(chart.encode(), ctypes.byref(handle), ctypes.byref(err)):
        raise HelmError(take(err.value))
    return handle.value


def free(handle):
    err = P()
    lib.helm_chart_free(handle, ctypes.byref(err))


def render(handle, values, opts):
    out, err = P(), P()
    if lib.helm_render(handle, json.dumps(values).encode(), json.dumps(opts).encode(), ctypes.byref(out), ctypes.byref(err)):
        raise HelmError(take(err.value))
    return json.loads(take(out.value))


def template(chart, release, values, opts):
    """What `helm template` runs: an install with a client-only dry run (no cluster), with
    opts such as namespace, kube_version, api_versions. Returns Helm's release JSON."""
    cfg, err = H(), P()
    if lib.helm_config_new(json.dumps({"namespace": opts.get("namespace", "default")}).encode(), ctypes.byref(cfg), ctypes.byref(err)):
        raise HelmError(take(err.value))
    handle = load(chart)
    try:
        out, err = P(), P()
        opts = dict(opts, dry_run="client")
        if lib.helm_install(cfg.value, H(0), handle, None, release.encode(), json.dumps(values).encode(), json.dumps(opts).encode(), ctypes.byref(out), ctypes.byref(err)):
            raise HelmError(take(err.value))
        return json.loads(take(out.value))
    finally:
        free(handle)
