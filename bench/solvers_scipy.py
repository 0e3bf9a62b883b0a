"""SciPy side of bench/solvers.bench.ts: solve the non-stiff work-precision problems with solve_ivp.

Usage:
  python3 solvers_scipy.py < requests.json
    requests: [{"problem", "method", "rtol", "atol"}...]  ->  one JSON line per request:
    {"problem", "method", "rtol", "atol", "nfev", "success", "y1": [...], "microseconds"}

Timing is measured inside Python (best of repeated runs, at least 3 and about 0.3 s per request), so process
start-up and JSON transfer are not counted. Problems mirror those in bench/solvers.bench.ts.
"""
import json
import math
import sys
import time

import numpy as np
from scipy.integrate import solve_ivp

MU = 0.012277471
ARENSTORF_T1 = 17.0652165601579625588917206249


def arenstorf(t, y):
    x, yy, vx, vy = y
    d1 = ((x + MU) ** 2 + yy ** 2) ** 1.5
    d2 = ((x - 1 + MU) ** 2 + yy ** 2) ** 1.5
    return [vx, vy,
            x + 2 * vy - (1 - MU) * (x + MU) / d1 - MU * (x - 1 + MU) / d2,
            yy - 2 * vx - (1 - MU) * yy / d1 - MU * yy / d2]


def lorenz(t, y):
    return [10.0 * (y[1] - y[0]), y[0] * (28.0 - y[2]) - y[1], y[0] * y[1] - 8.0 / 3.0 * y[2]]


BRUSS_N = 10
BRUSS_ALPHA = 1.0 / 50.0


def brusselator(t, y):
    n = BRUSS_N
    u = y[:n]
    v = y[n:]
    c = BRUSS_ALPHA * (n + 1) ** 2
    up = np.concatenate(([1.0], u, [1.0]))
    vp = np.concatenate(([3.0], v, [3.0]))
    du = 1 + u * u * v - 4 * u + c * (up[:-2] - 2 * u + up[2:])
    dv = 3 * u - u * u * v + c * (vp[:-2] - 2 * v + vp[2:])
    return np.concatenate((du, dv))


MASSES = np.arange(1.0, 8.0)


def pleiades(t, y):
    x = y[0:7]
    yy = y[7:14]
    dx = x[None, :] - x[:, None]
    dy = yy[None, :] - yy[:, None]
    r3 = (dx * dx + dy * dy) ** 1.5
    np.fill_diagonal(r3, 1.0)
    ax = (MASSES[None, :] * dx / r3)
    ay = (MASSES[None, :] * dy / r3)
    np.fill_diagonal(ax, 0.0)
    np.fill_diagonal(ay, 0.0)
    return np.concatenate((y[14:21], y[21:28], ax.sum(axis=1), ay.sum(axis=1)))


def bruss_y0():
    n = BRUSS_N
    x = np.arange(1, n + 1) / (n + 1)
    return np.concatenate((1 + np.sin(2 * math.pi * x), np.full(n, 3.0)))


PROBLEMS = {
    'arenstorf': (arenstorf, (0.0, ARENSTORF_T1), [0.994, 0.0, 0.0, -2.00158510637908252240537862224]),
    'lorenz': (lorenz, (0.0, 5.0), [1.0, 1.0, 1.0]),
    'brusselator': (brusselator, (0.0, 10.0), list(bruss_y0())),
    'pleiades': (pleiades, (0.0, 3.0),
                 [3, 3, -1, -3, 2, -2, 2, 3, -3, 2, 0, 0, -4, 4, 0, 0, 0, 0, 0, 1.75, -1.5, 0, 0, 0, -1.25, 1, 0, 0]),
}


def run(request):
    f, span, y0 = PROBLEMS[request['problem']]
    args = dict(method=request['method'], rtol=request['rtol'], atol=request['atol'])
    sol = solve_ivp(f, span, np.asarray(y0, dtype=float), **args)
    best = math.inf
    spent = 0.0
    runs = 0
    while runs < 3 or (spent < 0.3 and runs < 50):
        start = time.perf_counter()
        solve_ivp(f, span, np.asarray(y0, dtype=float), **args)
        elapsed = time.perf_counter() - start
        spent += elapsed
        best = min(best, elapsed)
        runs += 1
    return {
        'problem': request['problem'], 'method': request['method'], 'rtol': request['rtol'], 'atol': request['atol'],
        'nfev': int(sol.nfev), 'success': bool(sol.success), 'y1': [float(v) for v in sol.y[:, -1]],
        'microseconds': best * 1e6,
    }


if __name__ == '__main__':
    for req in json.load(sys.stdin):
        print(json.dumps(run(req)), flush=True)
