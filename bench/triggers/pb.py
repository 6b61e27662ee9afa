#!/usr/bin/env python3
"""Helpers of bench/triggers/*.sh: a small patchbay API client, setup of the benchmark triggers,
and the figures (wrk results, poll lateness, /metrics quantiles). Standard library only.

Subcommands (see each function): free-port, setup-webhook, count-events, setup-polling,
wrk-table, lateness, metric.
"""

import http.client
import json
import math
import socket
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

CONTOSO_KEY = "contoso-demo-key"


class Api:
    """One keep-alive connection to patchbay (or any HTTP server) with an optional bearer token."""

    def __init__(self, url, token=None):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.token = token
        self.conn = None

    def send(self, method, path, body=None, headers=None):
        """Sends one request; returns (status, parsed JSON or text)."""
        sent = dict(headers or {})
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.conn.request(method, path, body=data, headers=sent)
                response = self.conn.getresponse()
                text = response.read().decode()
                break
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        try:
            return response.status, json.loads(text) if text else None
        except ValueError:
            return response.status, text

    def ok(self, method, path, body=None, expected=200):
        """Sends one request and fails with the answer unless it is `expected`."""
        status, answer = self.send(method, path, body)
        if status != expected:
            sys.exit(f"{method} {path}: expected {expected}, got {status}: {answer}")
        return answer

    def upload(self, name, definition, properties):
        """Uploads a connector package; returns its id."""
        body = {"name": name, "apiDefinition": definition, "apiProperties": properties}
        return self.ok("POST", "/api/connectors", body, 201)["id"]

    def connect(self, connector, parameter_set, values):
        """Creates a connection; returns its id."""
        body = {"displayName": "bench", "parameterSet": parameter_set, "values": values}
        return self.ok("POST", f"/api/connectors/{connector}/connections", body, 201)["id"]


def free_port():
    """Prints a free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        print(probe.getsockname()[1])


def setup_webhook(pb_url, token, contoso_url, connector_dir):
    """Uploads the Contoso package (pointed at `contoso_url`), connects with the API key, creates an
    OnTaskEvent webhook trigger; prints `<trigger id> <callback URL>` (the URL Contoso was given)."""
    host = urllib.parse.urlsplit(contoso_url).netloc
    texts = []
    for name in ("apiDefinition.swagger.json", "apiProperties.json"):
        with open(f"{connector_dir}/{name}", encoding="utf-8") as file:
            texts.append(file.read().replace("localhost:3000", host))
    api = Api(pb_url, token)
    connector = api.upload("Contoso Tasks", *texts)
    connection = api.connect(connector, "apiKey", {"api_key": CONTOSO_KEY})
    body = {"operationId": "OnTaskEvent", "inputs": {"body": {"event": "taskCreated"}}}
    trigger = api.ok("POST", f"/api/connections/{connection}/triggers", body, 201)["id"]
    hooks = Api(contoso_url).send("GET", "/hooks", headers={"X-API-Key": CONTOSO_KEY})[1]
    callbacks = [hook["callbackUrl"] for hook in hooks["value"] if hook["callbackUrl"].startswith(pb_url)]
    if len(callbacks) != 1:
        sys.exit(f"expected one subscription of {pb_url} at Contoso, found {len(callbacks)}")
    print(trigger, callbacks[0])


def count_events(pb_url, token, trigger):
    """Prints how many events `trigger` has stored, paging through GET /api/triggers/{id}/events."""
    api, after, count = Api(pb_url, token), 0, 0
    while True:
        page = api.ok("GET", f"/api/triggers/{trigger}/events?after={after}&limit=1000")
        if not page["events"]:
            print(count)
            return
        count += len(page["events"])
        after = page["next"]


def setup_polling(pb_url, token, ticker_url, count, recurrence, parallel="8"):
    """Uploads the ticker's connector, connects, and creates `count` OnTick polling triggers with
    `recurrence` seconds, `parallel` requests at a time, showing progress on standard error."""
    api = Api(pb_url, token)
    definition = json.dumps(Api(ticker_url).ok("GET", "/apiDefinition"))
    properties = json.dumps(
        {"properties": {"connectionParameters": {}, "publisher": "patchbay bench", "stackOwner": "patchbay"}}
    )
    connection = api.connect(api.upload("Ticker", definition, properties), None, {})
    count, recurrence = int(count), float(recurrence)
    local = threading.local()
    done = [0]
    lock = threading.Lock()
    started = time.monotonic()

    def create(index):
        if not hasattr(local, "api"):
            local.api = Api(pb_url, token)
        body = {"operationId": "OnTick", "inputs": {"t": f"t{index}"}, "recurrenceSeconds": recurrence}
        local.api.ok("POST", f"/api/connections/{connection}/triggers", body, 201)
        with lock:
            done[0] += 1
            if done[0] % 500 == 0 or done[0] == count:
                rate = done[0] / (time.monotonic() - started)
                print(f"  created {done[0]:>6}/{count} triggers ({rate:.0f}/s)", file=sys.stderr)

    with ThreadPoolExecutor(int(parallel)) as pool:
        list(pool.map(create, range(count)))
    print(f"{time.monotonic() - started:.1f}")


def percentile(values, p):
    """The `p`th percentile (nearest rank) of sorted `values`."""
    if not values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


def wrk_table(*labelled):
    """Prints a Markdown table of wrk runs given as `label=file` (the RESULT line of wrk-post.lua);
    the first runs are baselines, each later row gets its ratio to each baseline. The argument
    `--baselines=N` says how many (default 1)."""
    baselines = 1
    runs = []
    for item in labelled:
        if item.startswith("--baselines="):
            baselines = int(item.split("=", 1)[1])
            continue
        label, path = item.split("=", 1)
        with open(path, encoding="utf-8") as file:
            line = next(line for line in file if line.startswith("RESULT "))
        result = json.loads(line[len("RESULT "):])
        result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
        runs.append((label, result))
    names = [label.split(":")[0] for label, _ in runs[:baselines]]
    print("| run | answers | req/s | p50 | p99 | " + " | ".join(f"vs {name}" for name in names) + " |")
    print("|---|---|---:|---:|---:|" + "---:|" * baselines)
    for label, result in runs:
        answers = ", ".join(f"{count:,} × {status}" for status, count in sorted(result["statuses"].items()))
        ratios = [f"{result['rate'] / base['rate']:.2f}" for _, base in runs[:baselines]]
        print(
            f"| {label} | {answers} | {result['rate']:,.0f} | {result['p50_us'] / 1e3:.2f} ms "
            f"| {result['p99_us'] / 1e3:.2f} ms | " + " | ".join(ratios) + " |"
        )


def lateness(ticker_url, from_ms, to_ms, recurrence):
    """Prints the lateness of the polls the ticker saw between `from_ms` and `to_ms`: for each poll
    in the window, its interval since the trigger's previous poll minus `recurrence` seconds."""
    from_ms, to_ms, wanted = int(from_ms), int(to_ms), float(recurrence) * 1e3
    text = Api(ticker_url).ok("GET", "/log")
    polls = {}
    for line in text.splitlines():
        trigger, at = line.split()
        polls.setdefault(trigger, []).append(int(at))
    late, in_window, early = [], 0, 0
    for times in polls.values():
        times.sort()
        for before, at in zip(times, times[1:]):
            if from_ms <= at < to_ms:
                in_window += 1
                late.append((at - before - wanted) / 1e3)
                early += at - before < wanted
    late.sort()
    polled = sum(1 for times in polls.values() if any(from_ms <= at < to_ms for at in times))
    seconds = (to_ms - from_ms) / 1e3
    print(
        json.dumps(
            {
                "polls": in_window,
                "polls_per_s": round(in_window / seconds, 1),
                "triggers_polled": polled,
                "triggers_seen": len(polls),
                "early": early,
                "p50_s": round(percentile(late, 50), 3),
                "p99_s": round(percentile(late, 99), 3),
                "max_s": round(late[-1], 3) if late else None,
            }
        )
    )


def metric(pb_url, name):
    """Prints the lines of metric `name` from patchbay's /metrics."""
    text = Api(pb_url).ok("GET", "/metrics")
    for line in text.splitlines():
        if line.startswith(name):
            print(line)


COMMANDS = {
    "free-port": free_port,
    "setup-webhook": setup_webhook,
    "count-events": count_events,
    "setup-polling": setup_polling,
    "wrk-table": wrk_table,
    "lateness": lateness,
    "metric": metric,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: pb.py {{{'|'.join(COMMANDS)}}} ARGS…")
    COMMANDS[sys.argv[1]](*sys.argv[2:])
