"""Time pages in-process: Django's test Client through the full middleware stack.

No server, no socket, no load generator: what the view, its templates and the middleware
cost per request on one core, as a visitor with no cookies (the jar is emptied before
every request, like wrk's requests). Also counts the SQL queries one request runs.
Prints JSON, one entry per --path.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def percentile(sorted_values: list[float], p: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


class Command(BaseCommand):
    help = "Time GET requests in-process with the test Client; prints JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", action="append", required=True)
        parser.add_argument("--requests", type=int, default=300)
        parser.add_argument("--warmup", type=int, default=30)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **options: Any) -> None:
        client = Client(HTTP_HOST=options["host"])
        out = []
        for path in options["path"]:
            statuses: dict[str, int] = {}
            for _ in range(options["warmup"]):
                client.cookies.clear()
                client.get(path)
            client.cookies.clear()
            with CaptureQueriesContext(connection) as queries:
                client.get(path)
            # Read now: the captured list is a view on the log the next request resets.
            query_count = len(queries)
            times = []
            for _ in range(options["requests"]):
                client.cookies.clear()
                start = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
            times.sort()
            out.append(
                {
                    "path": path,
                    "requests": len(times),
                    "statuses": statuses,
                    "queries": query_count,
                    "ms": {
                        "mean": round(statistics.fmean(times), 3),
                        "p50": round(percentile(times, 50), 3),
                        "p99": round(percentile(times, 99), 3),
                        "min": round(times[0], 3),
                    },
                }
            )
        self.stdout.write(json.dumps(out))
