"""Reading the services' Prometheus text: the http_requests_total series and their values."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

REQUESTS_SAMPLE = "http_requests_total"


def request_series(text: str) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of every http_requests_total series in a /metrics answer."""
    return [(sample.labels, sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == REQUESTS_SAMPLE]


def count(text: str, route_matches, **labels: str) -> float:
    """The summed count of the series with these labels whose route label satisfies `route_matches`."""
    return sum(value for series_labels, value in request_series(text)
               if route_matches(series_labels.get("route", ""))
               and all(series_labels.get(name) == wanted for name, wanted in labels.items()))
