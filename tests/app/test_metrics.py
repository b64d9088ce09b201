"""The request metrics collector: the same exposition as prometheus_client's own
Counter and Histogram, from plain numbers."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from course_app.core.metrics import BUCKETS, Metrics

OBSERVED = [
    ("GET", "/health", 200, 0.003),
    ("GET", "/health", 200, 0.005),  # exactly on a bound: counted in that bucket ("le")
    ("GET", "/health", 200, 0.25),
    ("GET", "/api/orders/{order_id}", 404, 0.0123),
    ("POST", "/api/orders", 500, 7.5),  # beyond the last bound: only +Inf
    ("POST", "/api/orders", 201, 5.0),
]
CREATED = re.compile(rb"^(\w+_created\{.*\}) \S+$", re.MULTILINE)


def reference_exposition() -> bytes:
    """What prometheus_client's own classes give for the same observations."""
    registry = CollectorRegistry(auto_describe=True)
    requests = Counter(
        "http_requests_total",
        "HTTP requests by method, route template and status",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "http_request_duration_seconds",
        "Time to the end of the response, by method and route template",
        ["method", "route"],
        registry=registry,
        buckets=BUCKETS,
    )
    for method, route, status, seconds in OBSERVED:
        requests.labels(method, route, str(status)).inc()
        latency.labels(method, route).observe(seconds)
    return generate_latest(registry)


def test_exposition_is_identical_to_prometheus_clients_own_classes() -> None:
    metrics = Metrics()
    for observation in OBSERVED:
        metrics.observe(*observation)
    ours = generate_latest(metrics.registry)
    # the _created values are clock readings: compare everything else byte for byte
    assert CREATED.sub(rb"\1 T", ours) == CREATED.sub(rb"\1 T", reference_exposition())
    assert len(CREATED.findall(ours)) == 4 + 3  # one per counter and per histogram series


def test_bucket_counts_are_cumulative_and_inf_counts_everything() -> None:
    metrics = Metrics(buckets=(0.1, 1.0))
    for seconds in (0.05, 0.1, 0.5, 3.0):
        metrics.observe("GET", "/x", 200, seconds)
    text = generate_latest(metrics.registry).decode()
    samples = {
        (sample.name, sample.labels.get("le")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples[("http_request_duration_seconds_bucket", "0.1")] == 2
    assert samples[("http_request_duration_seconds_bucket", "1.0")] == 3
    assert samples[("http_request_duration_seconds_bucket", "+Inf")] == 4
    assert samples[("http_request_duration_seconds_count", None)] == 4
    assert samples[("http_request_duration_seconds_sum", None)] == pytest.approx(3.65)
    assert samples[("http_requests_total", None)] == 4


def test_an_empty_collector_exposes_no_series() -> None:
    text = generate_latest(Metrics().registry).decode()
    assert "http_requests_total{" not in text
    assert "http_request_duration_seconds_bucket{" not in text


@pytest.mark.parametrize("buckets", [(), (1.0, 0.5), (0.1, 0.1, 1.0)])
def test_buckets_must_be_distinct_and_increasing(buckets: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="distinct and increasing"):
        Metrics(buckets=buckets)
