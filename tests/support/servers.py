"""Slotwise as real server processes, and clients that race them (tests, browser tests, benchmarks)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``slotwise serve`` in a subprocess on a free port; a context manager.

    The environment decides the database (``SLOTWISE_DATABASE_URL``), exactly
    as for a deployment. Start-up waits for ``/healthz`` to answer 200.
    """

    # Races fire dozens of writes from one client; the per-client limit would
    # turn most into 429s, so these servers run without it unless asked.
    DEFAULT_ENV = {"SLOTWISE_RATE_LIMIT": "0", "SLOTWISE_READ_RATE_LIMIT": "0"}

    def __init__(self, env: Mapping[str, str] | None = None, *, host: str = "127.0.0.1",
                 port: int | None = None, log: Path | None = None, startup_timeout: float = 60) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.env = {**os.environ, **self.DEFAULT_ENV, **(env or {})}
        self.log = log
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerProcess:
        output = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "slotwise.cli", "serve", "--host", self.host, "--port", str(self.port)],
            env=self.env, stdout=output, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode} (log: {self.log})")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer /healthz within {self.startup_timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def book_first_free(base: str, site: str, service: str, booking: Mapping[str, object], *,
                    from_days: int = 3, within_days: int = 40) -> dict:
    """Books the first free start of ``service`` on a running server; returns the 201 answer.

    The search starts ``from_days`` ahead (clear of the demo's cut-offs and
    notice). ``booking`` holds the rest of the request: customer, answers, ...
    """
    import json

    first = datetime.now(UTC).date() + timedelta(days=from_days)
    query = f"service={service}&start={first}&end={first + timedelta(days=within_days)}"
    with urllib.request.urlopen(f"{base}/api/v1/sites/{site}/availability?{query}", timeout=10) as response:
        slots = json.load(response)["slots"]
    if not slots:
        raise RuntimeError(f"{site} has no free {service} in the {within_days} days from {first}")
    body = json.dumps({"service": service, "start": slots[0]["start"], **booking}).encode()
    request = urllib.request.Request(f"{base}/api/v1/sites/{site}/bookings", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def tomorrow_at(hour: int, minute: int = 0) -> str:
    """Tomorrow (UTC) at ``hour:minute`` UTC, ISO-8601: always bookable at the 24/7 example site."""
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).isoformat()


@dataclass
class RaceOutcome:
    statuses: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)


async def race(urls: list[str], path: str, bodies: list[dict]) -> RaceOutcome:
    """POST every body to ``path`` at once, alternating between the server ``urls``."""
    return await race_requests(urls, [(path, body) for body in bodies])


async def race_requests(urls: list[str], requests: list[tuple[str, dict]]) -> RaceOutcome:
    """POST every (path, body) at once, alternating between the server ``urls``; statuses and latencies."""
    import httpx

    outcome = RaceOutcome()

    async def one(http: httpx.AsyncClient, url: str, path: str, body: dict) -> None:
        began = time.perf_counter()
        response = await http.post(url + path, json=body)
        outcome.latencies_ms.append((time.perf_counter() - began) * 1000)
        outcome.statuses[response.status_code] += 1

    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        await asyncio.gather(*(one(http, urls[i % len(urls)], path, body)
                               for i, (path, body) in enumerate(requests)))
    return outcome
