"""Reading the services' Prometheus text: where each service's /metrics is, the http_requests_total series, sums."""
from __future__ import annotations

import os

from prometheus_client.parser import text_string_to_metric_families

REQUESTS_SAMPLE = "http_requests_total"
# Where Prometheus would scrape each service: its own port, never the ingress. The defaults are the
# local dev stack's; `make test` and the in-cluster Job pass their own.
METRICS_URLS = {
    "order-ms": os.environ.get("ORDER_MS_METRICS_URL", "http://127.0.0.1:5000/metrics"),
    "delivery-ms": os.environ.get("DELIVERY_MS_METRICS_URL", "http://127.0.0.1:6000/metrics"),
}


def request_series(text: str) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of every http_requests_total series in a /metrics answer."""
    return [(sample.labels, sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == REQUESTS_SAMPLE]


def total(text: str, sample_name: str) -> float:
    """The sum of every series of one sample name (all its label values)."""
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples if sample.name == sample_name)


def count(text: str, route_matches, **labels: str) -> float:
    """The summed count of the series with these labels whose route label satisfies `route_matches`."""
    return sum(value for series_labels, value in request_series(text)
               if route_matches(series_labels.get("route", ""))
               and all(series_labels.get(name) == wanted for name, wanted in labels.items()))
