"""Python threads running interpreters: results identical to sequential runs."""
import threading

import numpy as np

from lce_fixtures import interpreter_or_skip, model_bytes, random_inputs

MODEL = "toy_shortcut"   # several float and binary ops
THREADS = 4
ROUNDS = 3


def run_threads(target, n):
    errors = []

    def wrapped(i):
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_one_interpreter_per_thread_matches_sequential():
    model = model_bytes(MODEL)
    probe = interpreter_or_skip(model)
    data = [random_inputs(probe, 8, seed=10 + i)[0] for i in range(THREADS)]
    sequential = [probe.predict(x) for x in data]
    results = [[None] * ROUNDS for _ in range(THREADS)]

    def work(i):
        it = interpreter_or_skip(model)
        for r in range(ROUNDS):
            results[i][r] = it.predict(data[i])

    run_threads(work, THREADS)
    for i in range(THREADS):
        for r in range(ROUNDS):
            np.testing.assert_array_equal(results[i][r], sequential[i], err_msg=f"thread {i} round {r}")


def test_one_interpreter_shared_by_threads():
    it = interpreter_or_skip(MODEL)
    data = [random_inputs(it, 4, seed=20 + i)[0] for i in range(THREADS)]
    sequential = [it.predict(x) for x in data]
    results = [None] * THREADS

    def work(i):
        for _ in range(ROUNDS):
            results[i] = it.predict(data[i])

    run_threads(work, THREADS)
    for i in range(THREADS):
        np.testing.assert_array_equal(results[i], sequential[i], err_msg=f"thread {i}")
