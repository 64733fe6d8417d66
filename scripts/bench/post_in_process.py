"""order-ms's own CPU per POST without HTTP or a shared core's noise: the app as a gunicorn worker runs it (tracing
configured by the same hook), called as a WSGI function in a loop against the stack's MariaDB, its CPU time (every
thread's: the span exporter's too) over several batches, of which the best counts: other work on the machine only
ever adds to a batch. scripts/bench/tracing.py runs it once per setting and round, with the setting's environment.

    python -m scripts.bench.post_in_process USER_ID    (BENCH_TOKEN and order-ms's environment in the environment)

Then it counts the Python function calls of PROFILED more POSTs (cProfile): unlike a time, a count does not
depend on what else the machine runs, so two settings that run the same code show the same count.

Prints {"cpu_us_per_post": …, "calls_per_post": …} on its last line."""
from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import sys
import time

from werkzeug.test import EnvironBuilder

WARM_UP = 300
BATCHES = 7
PER_BATCH = 300
PROFILED = 200
BODY = json.dumps({"coffee_name": "in-process", "coffee_price": 2000, "coffee_qty": 1}).encode()


def main() -> None:
    from services import order_ms
    from services.platform.tracing import configure_tracing, instrument_flask, shutdown

    app = order_ms.create_app()
    # As services/platform/gunicorn_conf.py's post_worker_init does in each worker.
    if configure_tracing(app.config["SERVICE_NAME"]):
        instrument_flask(app)
    environ = EnvironBuilder(path=f"/order-ms/{sys.argv[1]}/orders", method="POST", data=BODY,
                             headers={"Authorization": f"Bearer {os.environ['BENCH_TOKEN']}",
                                      "Content-Type": "application/json"}).get_environ()

    def post() -> None:
        answered = []
        body = app({**environ, "wsgi.input": io.BytesIO(BODY)}, lambda status, *_: answered.append(status))
        for _chunk in body:
            pass
        getattr(body, "close", lambda: None)()
        if not answered[0].startswith("201"):
            raise SystemExit(f"POST answered {answered[0]}")

    for _ in range(WARM_UP):
        post()
    batches = []
    for _ in range(BATCHES):
        started = time.process_time()
        for _ in range(PER_BATCH):
            post()
        batches.append((time.process_time() - started) / PER_BATCH * 1e6)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(PROFILED):
        post()
    profiler.disable()
    calls = pstats.Stats(profiler).total_calls / PROFILED
    shutdown()
    print(json.dumps({"cpu_us_per_post": min(batches), "batches": batches, "calls_per_post": calls}))


if __name__ == "__main__":
    main()
