"""The consumer's Prometheus metrics, served on METRICS_PORT."""
from __future__ import annotations

from prometheus_client import Counter, Gauge

MESSAGES = Counter("consumer_messages_total", "new_orders messages handled, by result.", ["result"])
# Read at scrape time from the loop's progress watch, so it grows while the loop hangs (CoffeeOrderConsumerStalled).
STALLED = Gauge("consumer_stalled_seconds", "Seconds the consumer has had work without committing (0 while it keeps up).")
LAG = Gauge("consumer_lag", "Messages behind the end of each assigned partition.", ["topic", "partition"])

# Zero from the start, so dashboards and alerts see every series before the first message.
for _result in ("created", "duplicate", "dead_lettered"):
    MESSAGES.labels(_result)
