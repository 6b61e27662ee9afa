#!/usr/bin/env python3
"""Prepare a running patchbay for the Flows benchmark and print the flow's id.

usage: setup.py BASE_URL      (env PATCHBAY_ADMIN_TOKEN: the server's admin token)

Uploads the connector in connector/ (the kit's backend on 127.0.0.1:18080, operation GetItem),
creates a connection of it with no values, creates flow.json as the flow "bench" with
connections {"items": <connection>}, enables it and checks that one run answers {"id":1,"name":"x"}.
Also: `setup.py BASE_URL runs FLOW_ID` prints "<runs> <succeeded>" counted through the API
(GET /api/flows/{id}/runs, 1,000 a page).
"""
import json
import os
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(base, method, path, body=None, expected=(200,)):
    token = os.environ["PATCHBAY_ADMIN_TOKEN"]
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
    try:
        with OPENER.open(req, timeout=60) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    if status not in expected:
        sys.exit(f"setup.py: {method} {path} -> {status}: {text[:500]}")
    return json.loads(text) if text else None


def read(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read()


def setup(base):
    connector = call(base, "POST", "/api/connectors", {
        "name": "Bench Items",
        "apiDefinition": read("connector/apiDefinition.swagger.json"),
        "apiProperties": read("connector/apiProperties.json"),
    }, (201,))["id"]
    connection = call(base, "POST", f"/api/connectors/{connector}/connections", {}, (201,))["id"]
    flow = call(base, "POST", "/api/flows", {
        "name": "bench",
        "definition": json.loads(read("flow.json")),
        "connections": {"items": connection},
    }, (201,))["id"]
    call(base, "POST", f"/api/flows/{flow}/enable")
    answer = call(base, "POST", f"/api/flows/{flow}/run", {"hello": "world"})
    if answer != {"id": 1, "name": "x"}:
        sys.exit(f"setup.py: the flow answered {answer}, expected {{'id': 1, 'name': 'x'}}")
    print(flow)


def count_runs(base, flow):
    runs = succeeded = 0
    before = None
    while True:
        path = f"/api/flows/{flow}/runs?limit=1000" + (f"&before={before}" if before else "")
        page = call(base, "GET", path)
        if not page:
            break
        runs += len(page)
        succeeded += sum(1 for run in page if run["status"] == "Succeeded")
        before = page[-1]["id"]
    print(runs, succeeded)


if __name__ == "__main__":
    if len(sys.argv) == 2:
        setup(sys.argv[1].rstrip("/"))
    elif len(sys.argv) == 4 and sys.argv[2] == "runs":
        count_runs(sys.argv[1].rstrip("/"), sys.argv[3])
    else:
        sys.exit(__doc__)
