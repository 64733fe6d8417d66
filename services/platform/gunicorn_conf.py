"""gunicorn settings for every HTTP service, from the environment
(`gunicorn -c services/platform/gunicorn_conf.py APP`)."""

import os
from pathlib import Path

from gunicorn.glogging import Logger

from services.platform.settings import DEFAULT_STREAM_MAX_PER_INSTANCE

_host = os.environ.get("HOST", "0.0.0.0")
# The API port, and with METRICS_PORT a second listener for /metrics and the health checks only (the app tells
# them apart by the port a request came in on: metrics.instrument_app).
bind = [f"{_host}:{os.environ.get('PORT', '5000')}"]
if os.environ.get("METRICS_PORT"):
    bind.append(f"{_host}:{os.environ['METRICS_PORT']}")
# gunicorn's sync worker: one request at a time per process, and several processes. It costs less CPU per
# request than the gthread worker (whose thread hand-off per request is a pipe write, a poller round and
# futex wake-ups) and serves as many. It closes the connection after each answer and holds a
# process while a client sends slowly: it belongs behind a buffering proxy, the ingress. GUNICORN_THREADS
# above 1 switches to the gthread worker (keep DB_POOL_SIZE at least the threads).
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# The stream processes (services/platform/streams.py) run GUNICORN_WORKER_CLASS=gevent with one worker: every open
# stream is a greenlet there, not a process (docs/decisions/0006-stream-serving.md). gevent's worker lets in
# `worker_connections` at once: room above STREAM_MAX_PER_INSTANCE, so that the app itself answers the stream beyond
# the limit (503 with a hint) and probes and scrapes still get in.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
worker_connections = int(os.environ.get("STREAM_MAX_PER_INSTANCE") or DEFAULT_STREAM_MAX_PER_INSTANCE) + 100
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# The chart's terminationGracePeriodSeconds must stay above this.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# Only the gthread worker keeps connections open between requests.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# The app is loaded before the port is bound: a starting instance refuses connections until it can answer,
# so an ingress sends them to another instance at once instead of queueing them behind the app's import
# (a rolling restart then costs no slow answers). Nothing the app builds at import holds a
# connection or a thread, so forking after it is safe; prometheus_client notices the new pid by itself.
# gevent's worker patches the standard library when it starts, after the fork: the app it runs must be loaded after
# that, in the worker, or its locks and sockets would block the whole loop.
preload_app = worker_class != "gevent"
accesslog = None  # request logs come from the app, as JSON with the request id (ACCESS_LOG)


class ServiceLogger(Logger):
    """gunicorn's logger without its access log. With `logconfig_dict` set, gunicorn builds an access line for
    every request even when nothing writes it, at a cost to every request."""

    def access(self, resp, req, environ, request_time):
        return None


logger_class = ServiceLogger
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The ingress bounds what reaches gunicorn (nginx and ingress-nginx: an 8 KiB request line, 8 KiB per header line,
# 32 KiB of headers) and answers what exceeds that as problem+json. gunicorn's own limits sit above those, so its
# HTML error page can never reach a client: no line limit (its highest finite one, 8190, is below nginx's 8192),
# its most header fields, and header lines twice nginx's (the ingress appends to X-Forwarded-For).
limit_request_line = 0
limit_request_fields = 32768
limit_request_field_size = 16384
# Ingresses send X-Forwarded-*; trust them only from the addresses given.
# gunicorn's own messages (start, worker exits, timeouts) as JSON lines too, like the app's logs.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "services.platform.logs.JsonFormatter", "service": "gunicorn"}},
    "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
    "root": {"handlers": ["json"], "level": loglevel.upper()},
    "loggers": {"gunicorn.error": {"handlers": ["json"], "level": loglevel.upper(), "propagate": False}},
}
# gunicorn 27's control socket lives under $HOME, which the image's user does not have; nothing uses it.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# prometheus_client's multiprocess mode reads this directory when it is first imported, so it is set
# here, before the app is loaded (preload_app: in this master process); nothing in this file imports
# prometheus_client early. The folder must exist by then: the app's metrics open their files at import.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", f"/tmp/prometheus-multiproc-{os.getpid()}")
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)


def on_starting(server):
    # OTEL_* values that cannot work stop the master now, naming the variable, rather than each worker at its boot.
    from services.platform.tracing import read_config

    read_config("")
    # A clean directory per start: files left by an earlier run would be summed into the metrics. Only
    # prometheus_client's own *.db files go, in case the variable points at a shared folder. (The master's
    # own files from preloading go too: it never counts anything; each worker writes files of its own pid.)
    path = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def post_worker_init(worker):
    # Tracing starts in each worker after the fork (its exporter's thread would not survive one), once the app is
    # loaded: the app names the process (its SERVICE_NAME). Off unless an OTLP endpoint is set.
    from services.platform.tracing import configure_tracing, instrument_flask

    app = worker.wsgi
    service = getattr(app, "config", {}).get("SERVICE_NAME")  # none: not a service's app (e.g. the bench's echo)
    if service and configure_tracing(service):
        instrument_flask(app)


def child_exit(server, worker):
    # Drops the dead worker's live gauges; its counters stay, so totals never go down.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker):
    # A stopping worker would hold its copy of the listening socket until its interpreter has torn the app down
    # (~0.2 s), and connections the kernel queued meanwhile would wait that long before the ingress retries them
    # on another instance (a rolling restart's p99 went from ~12 to 30-200 ms with sync workers). Closed here,
    # they fail over at once. Only in the worker itself: gunicorn also calls this hook in the master for a
    # worker that is already gone, and there these sockets are the master's own.
    if os.getpid() == worker.pid:
        for listener in worker.sockets:
            listener.close()
        from services.platform.tracing import shutdown

        shutdown()  # the spans still buffered go out before the worker exits
