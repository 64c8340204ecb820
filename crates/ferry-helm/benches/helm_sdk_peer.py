#!/usr/bin/env python3
"""The peer of benches/render.rs: times the real Helm SDK (libhelm_c from the helm-python-sdk
wheel, Helm v4.2.3) loading and rendering a chart in process, N times.

    helm_sdk_peer.py LIBHELM_C CHART_DIR ITERATIONS [VALUES_JSON]

Prints one line: the mean seconds per load+render."""
import ctypes, json, sys, time

lib = ctypes.CDLL(sys.argv[1])
P = ctypes.c_void_p
lib.helm_free_string.argtypes = [P]
lib.helm_chart_load.restype = ctypes.c_int32
lib.helm_chart_load.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(P)]
lib.helm_render.restype = ctypes.c_int32
lib.helm_render.argtypes = [ctypes.c_uint64, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(P), ctypes.POINTER(P)]
lib.helm_chart_free.restype = ctypes.c_int32
lib.helm_chart_free.argtypes = [ctypes.c_uint64, ctypes.POINTER(P)]

chart, n = sys.argv[2].encode(), int(sys.argv[3])
values = (sys.argv[4] if len(sys.argv) > 4 else "{}").encode()
opts = json.dumps({"name": "demo", "namespace": "apps", "is_install": True}).encode()

def once():
    handle, err = ctypes.c_uint64(), P()
    if lib.helm_chart_load(chart, ctypes.byref(handle), ctypes.byref(err)):
        sys.exit("load failed: " + ctypes.string_at(err.value).decode())
    out, err = P(), P()
    if lib.helm_render(handle.value, values, opts, ctypes.byref(out), ctypes.byref(err)):
        sys.exit("render failed: " + ctypes.string_at(err.value).decode())
    lib.helm_free_string(P(out.value))
    ferr = P()
    lib.helm_chart_free(handle.value, ctypes.byref(ferr))

once()  # warm up
start = time.perf_counter()
for _ in range(n):
    once()
print((time.perf_counter() - start) / n)
