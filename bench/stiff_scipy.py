"""SciPy side of bench/stiff.bench.ts: solve the stiff test problems with solve_ivp and report work counters.

Usage:
  python3 stiff_scipy.py run < requests.json    # [{"problem", "method", "rtol", "atol", "repeat"}...] -> JSON lines
  python3 stiff_scipy.py reference              # reference values y(t1) at very tight tolerance (JSON)

Problems and their analytic Jacobians mirror test/stiff-problems.ts.
"""
import json
import sys
import time

import numpy as np
from scipy.integrate import solve_ivp


def robertson(t, y):
    return [-0.04 * y[0] + 1e4 * y[1] * y[2], 0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2, 3e7 * y[1] ** 2]


def robertson_jac(t, y):
    return [[-0.04, 1e4 * y[2], 1e4 * y[1]],
            [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]],
            [0.0, 6e7 * y[1], 0.0]]


MU = 1000.0


def vdp(t, y):
    return [y[1], MU * (1 - y[0] ** 2) * y[1] - y[0]]


def vdp_jac(t, y):
    return [[0.0, 1.0], [-2 * MU * y[0] * y[1] - 1, MU * (1 - y[0] ** 2)]]


def hires(t, y):
    y1, y2, y3, y4, y5, y6, y7, y8 = y
    return [-1.71 * y1 + 0.43 * y2 + 8.32 * y3 + 0.0007,
            1.71 * y1 - 8.75 * y2,
            -10.03 * y3 + 0.43 * y4 + 0.035 * y5,
            8.32 * y2 + 1.71 * y3 - 1.12 * y4,
            -1.745 * y5 + 0.43 * y6 + 0.43 * y7,
            -280 * y6 * y8 + 0.69 * y4 + 1.71 * y5 - 0.43 * y6 + 0.69 * y7,
            280 * y6 * y8 - 1.81 * y7,
            -280 * y6 * y8 + 1.81 * y7]


def hires_jac(t, y):
    j = np.zeros((8, 8))
    j[0, 0], j[0, 1], j[0, 2] = -1.71, 0.43, 8.32
    j[1, 0], j[1, 1] = 1.71, -8.75
    j[2, 2], j[2, 3], j[2, 4] = -10.03, 0.43, 0.035
    j[3, 1], j[3, 2], j[3, 3] = 8.32, 1.71, -1.12
    j[4, 4], j[4, 5], j[4, 6] = -1.745, 0.43, 0.43
    j[5, 3], j[5, 4], j[5, 5], j[5, 6], j[5, 7] = 0.69, 1.71, -0.43 - 280 * y[7], 0.69, -280 * y[5]
    j[6, 5], j[6, 6], j[6, 7] = 280 * y[7], -1.81, 280 * y[5]
    j[7, 5], j[7, 6], j[7, 7] = -280 * y[7], 1.81, -280 * y[5]
    return j


def orego(t, y):
    return [77.27 * (y[1] + y[0] * (1 - 8.375e-6 * y[0] - y[1])),
            (y[2] - (1 + y[0]) * y[1]) / 77.27,
            0.161 * (y[0] - y[2])]


def orego_jac(t, y):
    return [[77.27 * (1 - 2 * 8.375e-6 * y[0] - y[1]), 77.27 * (1 - y[0]), 0.0],
            [-y[1] / 77.27, -(1 + y[0]) / 77.27, 1 / 77.27],
            [0.161, 0.0, -0.161]]


PROBLEMS = {
    'robertson': (robertson, robertson_jac, (0.0, 1e11), [1.0, 0.0, 0.0]),
    'vanDerPol': (vdp, vdp_jac, (0.0, 3000.0), [2.0, 0.0]),
    'hires': (hires, hires_jac, (0.0, 321.8122), [1.0, 0, 0, 0, 0, 0, 0, 0.0057]),
    'oregonator': (orego, orego_jac, (0.0, 360.0), [1.0, 2.0, 3.0]),
}


def run(requests):
    for req in requests:
        f, jac, span, y0 = PROBLEMS[req['problem']]
        use_jac = jac if req.get('jacobian', True) else None
        best = float('inf')
        for _ in range(req.get('repeat', 1)):
            start = time.perf_counter()
            sol = solve_ivp(f, span, y0, method=req['method'], rtol=req['rtol'], atol=req['atol'], jac=use_jac)
            best = min(best, time.perf_counter() - start)
        print(json.dumps({
            'problem': req['problem'], 'method': 'scipy-' + req['method'], 'rtol': req['rtol'], 'atol': req['atol'],
            'success': bool(sol.success), 'y1': sol.y[:, -1].tolist(), 'nfe': int(sol.nfev), 'njev': int(sol.njev),
            'nlu': int(sol.nlu), 'steps': int(sol.t.size - 1), 'microseconds': best * 1e6,
        }), flush=True)


def reference():
    out = {}
    for name, (f, jac, span, y0) in PROBLEMS.items():
        sol = solve_ivp(f, span, y0, method='Radau', rtol=1e-13, atol=1e-20, jac=jac)
        out[name] = sol.y[:, -1].tolist()
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    if sys.argv[1:] == ['reference']:
        reference()
    else:
        run(json.load(sys.stdin))
