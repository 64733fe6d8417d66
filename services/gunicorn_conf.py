"""gunicorn settings for order-ms and delivery-ms, from the environment (`gunicorn -c services/gunicorn_conf.py`)."""
import os
import shutil

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# The chart's terminationGracePeriodSeconds must stay above this.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
accesslog = None  # request logs come from the app, as JSON with the request id
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Ingresses send X-Forwarded-*; trust them only from the addresses given.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# prometheus_client's multiprocess mode reads this directory when it is first imported, so it is set
# here, before any worker imports the app; nothing in this file imports prometheus_client early.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", f"/tmp/prometheus-multiproc-{os.getpid()}")


def on_starting(server):
    # A clean directory per start: files left by an earlier run would be summed into the metrics.
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
