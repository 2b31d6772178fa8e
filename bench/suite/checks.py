"""Part `checks`: every server answers every scenario with the right status, body and headers."""
from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from .config import log
from .scenarios import SCENARIOS, Scenario
from .servers import ServerFailed, request, start_server

if TYPE_CHECKING:
    from .run import Suite


def check_one(port: int, sc: Scenario) -> dict:
    try:
        status, headers, body, ms = request(port, sc.method, sc.path, sc.body, sc.headers)
    except OSError as e:
        return {"ok": False, "why": f"request failed: {e}"}
    res = {"status": status, "len": len(body), "sha256": hashlib.sha256(body).hexdigest()[:12],
           "identical": body == sc.expect, "content_type": headers.get("content-type", ""),
           "ms": round(ms, 2)}
    why = []
    if status != sc.status:
        why.append(f"status {status}, expected {sc.status}")
    if not res["identical"]:
        try:
            same = sc.json and json.loads(body) == json.loads(sc.expect)
        except ValueError:
            same = False
        if not same:
            why.append(f"body {body[:120]!r}, expected {sc.expect[:120]!r}")
    if sc.json and not res["content_type"].startswith("application/json"):
        why.append(f"content-type {res['content_type']!r}")
    if not sc.json and not res["content_type"].startswith("text/plain"):
        why.append(f"content-type {res['content_type']!r}")
    if ms < sc.min_ms:
        why.append(f"answered in {ms:.1f} ms, faster than the {sc.min_ms:g} ms the handler must wait")
    if sc.headers.get("Connection") == "close" and headers.get("connection", "").lower() != "close":
        why.append("no 'connection: close' in the response to a 'Connection: close' request")
    res["ok"] = not why
    res["why"] = "; ".join(why)
    return res



def run(suite: Suite) -> None:
    log("checks: every server x scenario, status and body")
    for sd in suite.available():
        try:
            proc, port = start_server(sd, suite.raw, f"check-{sd.name}")
        except ServerFailed as e:
            suite.fail(str(e))
            suite.results["checks"][sd.name] = {"_start": {"ok": False, "why": str(e)}}
            continue
        try:
            res = {sc.name: check_one(port, sc) for sc in SCENARIOS}
        finally:
            proc.stop()
        suite.results["checks"][sd.name] = res
        for name, r in res.items():
            if not r["ok"]:
                suite.fail(f"{sd.name} {name}: {r['why']}")
        bad = [n for n, r in res.items() if not r["ok"]]
        diff = [n for n, r in res.items() if r["ok"] and not r["identical"]]
        log(f"  {sd.name}: {len(res) - len(bad)}/{len(res)} correct"
            + (f", WRONG: {', '.join(bad)}" if bad else "")
            + (f", same JSON value but other bytes: {', '.join(diff)}" if diff else ""))
    suite.save()
