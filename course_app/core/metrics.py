"""Prometheus metrics: request count and latency per route template, served at /metrics.

Each app gets its own registry, so several apps in one process (tests, notebooks) do not
collide on metric names. The numbers are recorded by ``RequestContextMiddleware`` (one
clock per request for the access log and the metrics).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

_label: Callable[[float], str] = floatToGoString  # "le" labels as prometheus_client writes them
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass(slots=True)
class _Count:
    value: int = 0
    created: float = field(default_factory=time.time)  # when the series began


@dataclass(slots=True)
class _Series:
    """One histogram series: a count per bucket (not cumulative, the last one +Inf)."""

    buckets: list[int]
    total: float = 0.0
    created: float = field(default_factory=time.time)


class Metrics(Collector):
    """``http_requests_total`` (method, route, status) and ``http_request_duration_seconds``
    (method, route), kept as plain Python numbers and handed to prometheus_client when
    ``/metrics`` is scraped.

    Why not prometheus_client's ``Counter`` and ``Histogram``? They are built to be
    shared by threads: every ``inc`` and ``observe`` takes a lock, and a histogram walks
    its buckets and checks for an exemplar. Measured in the middleware, that was 4.5 µs a
    request; this is under 1.5 (bench/README.md). Every request is observed on the event
    loop's one thread, so a dict lookup, a ``bisect`` and three additions do. The
    exposition is identical (tests/app/test_metrics.py compares it with
    prometheus_client's own classes), ``_created`` series included.
    """

    def __init__(self, buckets: Sequence[float] = BUCKETS) -> None:
        if not buckets or list(buckets) != sorted(set(buckets)):
            raise ValueError("buckets must be distinct and increasing")
        self.bounds = tuple(float(bound) for bound in buckets)
        self._counts: dict[tuple[str, str, int], _Count] = {}
        self._series: dict[tuple[str, str], _Series] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(self)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        count = self._counts.get((method, route, status))
        if count is None:
            count = self._counts[(method, route, status)] = _Count()
        count.value += 1
        series = self._series.get((method, route))
        if series is None:
            series = self._series[(method, route)] = _Series([0] * (len(self.bounds) + 1))
        series.buckets[bisect_left(self.bounds, seconds)] += 1  # first bound >= seconds: "le"
        series.total += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "http_requests",
            "HTTP requests by method, route template and status",
            labels=["method", "route", "status"],
        )
        for (method, route, status), count in list(self._counts.items()):
            requests.add_metric([method, route, str(status)], count.value, created=count.created)
        yield requests
        latency = HistogramMetricFamily(
            "http_request_duration_seconds",
            "Time to the end of the response, by method and route template",
            labels=["method", "route"],
        )
        names = [*(_label(bound) for bound in self.bounds), "+Inf"]
        for (method, route), series in list(self._series.items()):
            cumulative, running = [], 0
            for name, in_bucket in zip(names, list(series.buckets), strict=True):
                running += in_bucket
                cumulative.append((name, float(running)))
            latency.add_metric([method, route], cumulative, series.total)
            labels = {"method": method, "route": route}
            latency.samples.append(Sample(latency.name + "_created", labels, series.created))
        yield latency


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI) -> Metrics:
    """Create the app's registry and serve it at ``/metrics``; pass the returned
    ``Metrics`` to ``install_middleware`` so requests are counted.

    The route is registered on the app itself (as the probes are), not through an
    included ``APIRouter``: every request whose route comes later is matched against each
    entry before it, and an included router is an expensive entry to pass."""
    metrics = Metrics()
    app.state.metrics = metrics
    app.get(
        "/metrics", summary="Prometheus metrics", tags=["observability"], response_class=Response
    )(metrics_endpoint)
    return metrics
