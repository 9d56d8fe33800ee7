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


def test_thread_stats():
    # The counters of the interpreter's thread pool (what `xbnn bench` prints): all zero with one
    # thread; with two, counts that add up. tests/runtime counts the steps of a model big enough
    # to be split.
    model = model_bytes(MODEL)
    keys = {"parallel_steps", "serial_steps", "stalls", "back_offs", "tasks", "caller_tasks", "worker_moves"}
    one = interpreter_or_skip(model, num_threads=1)
    x = random_inputs(one, 1, seed=3)[0]
    one.predict(x)
    assert one.thread_stats() == {k: 0 for k in keys}
    two = interpreter_or_skip(model, num_threads=2)
    for _ in range(3):
        two.predict(x)
    s = two.thread_stats()
    assert set(s) == keys and all(isinstance(v, int) and v >= 0 for v in s.values())
    assert s["caller_tasks"] <= s["tasks"]
    assert s["stalls"] + s["back_offs"] <= s["parallel_steps"]
