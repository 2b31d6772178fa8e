#!/usr/bin/env python3
"""Turns bench/harness.py's results.json into REPORT.md and PNG charts (matplotlib).

    python bench/report.py bench/results        reads results.json there, writes REPORT.md + *.png

Medians over repetitions; ratios are between medians of the same run. Targets are evaluated
on fastcore 3.13t and printed as met/missed (a quick run is marked indicative, not judged).
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FASTCORE = "fastcore-313t"
COLORS = {"baseline": "#7f7f7f", "fastcore": "#d62728", "peer": "#1f77b4"}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec=",.0f", none="–"):
    return none if x is None else format(x, spec)


class Report:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.r = json.loads((out / "results.json").read_text())
        self.quick = self.r["meta"].get("quick", False)
        self.servers = self.r["servers"]
        self.order = list(self.servers)
        self.scenarios = self.r["scenarios"]
        self.stats = self._stats()
        self.lines: list[str] = []

    # --- numbers -----------------------------------------------------------------------------
    def _stats(self) -> dict:
        """(scenario, server) -> medians over the repetitions that completed."""
        by: dict = {}
        for run in self.r["runs"]:
            by.setdefault((run["scenario"], run["server"]), []).append(run)
        out = {}
        for key, runs in by.items():
            ok = [r for r in runs if "failed" not in r]
            out[key] = {
                "rps": med([r["rps"] for r in ok]),
                "p50": med([r["p50_ms"] for r in ok]),
                "p99": med([r["p99_ms"] for r in ok]),
                "rss_mib": med([r["rss_kb"] / 1024 for r in ok]),
                "errors": sum(sum(r["errors"].values()) for r in ok),
                "non2xx": sum(r["non2xx"] for r in ok),
                "reps": [r["rps"] for r in ok],
                "failed": len(runs) - len(ok),
                "cpu": med([r.get("server_cpu_pct") for r in ok]),
                "cpu_us": med([r["server_cpu_us"] for r in ok if "server_cpu_us" in r]),
                "other": max((r.get("other_load_pct", 0) for r in ok), default=0),
            }
        return out

    def rps(self, scenario: str, server: str):
        return self.stats.get((scenario, server), {}).get("rps")

    def cpu_us(self, scenario: str, server: str):
        return self.stats.get((scenario, server), {}).get("cpu_us")

    def ratio(self, a, b):
        return None if a is None or not b else a / b

    def best_peer(self, scenario: str):
        peers = [(self.rps(scenario, s), s) for s, d in self.servers.items() if d["kind"] == "peer"]
        peers = [(v, s) for v, s in peers if v is not None]
        return max(peers) if peers else (None, None)

    # --- charts ------------------------------------------------------------------------------
    def bar_chart(self, scenario: str) -> str | None:
        rows = [(s, self.stats[(scenario, s)]) for s in self.order if (scenario, s) in self.stats
                and self.stats[(scenario, s)]["rps"] is not None]
        if not rows:
            return None
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
        names = [self.servers[s]["label"] for s, _ in rows]
        vals = [st["rps"] for _, st in rows]
        colors = [COLORS[self.servers[s]["kind"]] for s, _ in rows]
        ax.barh(names, vals, color=colors)
        ax.invert_yaxis()
        top = max(vals)
        for i, (_, st) in enumerate(rows):
            ax.text(st["rps"] + top * 0.01, i, f"{st['rps']:,.0f}  (p99 {st['p99']:.1f} ms)", va="center", fontsize=8)
        ax.set_xlim(0, top * 1.35)
        ax.set_xlabel("requests/s (median)")
        ax.set_title(self.scenarios[scenario]["title"], fontsize=10)
        return self.save_chart(fig, f"bar-{scenario}.png")

    def latency_chart(self) -> str | None:
        sweep = self.r.get("sweep") or {}
        if not sweep:
            return None
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for server, data in sweep.items():
            pts = [p for p in data["points"] if p.get("p99_ms") is not None]
            if not pts:
                continue
            color = COLORS[self.servers[server]["kind"]] if server != "granian-rsgi" else "#2ca02c"
            xs = [p["offered_rps"] for p in pts]
            ax.plot(xs, [p["p99_ms"] for p in pts], "o-", color=color, label=f"{self.servers[server]['label']} p99")
            ax.plot(xs, [p["p50_ms"] for p in pts], "o--", color=color, alpha=0.5, label=f"{self.servers[server]['label']} p50")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("offered load, requests/s (fixed rate, log)")
        ax.set_ylabel("latency ms (from scheduled send time, log)")
        ax.set_title("JSON hello: latency vs offered load (64 connections)", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        return self.save_chart(fig, "latency-vs-load.png")

    def scaling_chart(self, rows: list) -> str | None:
        if not rows:
            return None
        fig, ax = plt.subplots(figsize=(7, 3.2))
        labels = [f"{r['server']}\n{r['case']}" for r in rows]
        x = range(len(rows))
        ax.bar([i - 0.2 for i in x], [r["t1"] or 0 for r in rows], 0.4, label="1 thread", color="#9ecae1")
        ax.bar([i + 0.2 for i in x], [r["t2"] or 0 for r in rows], 0.4, label="2 threads", color="#d62728")
        for i, r in enumerate(rows):
            if r["ratio"]:
                ax.text(i + 0.2, r["t2"], f"{r['ratio']:.2f}x", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("requests/s (log)")
        ax.set_title("Worker threads: 1 vs 2", fontsize=10)
        ax.legend(fontsize=8)
        return self.save_chart(fig, "scaling.png")

    def save_chart(self, fig, name: str) -> str:
        """Writes the figure as OUT/name and returns name, for `image`."""
        fig.tight_layout()
        fig.savefig(self.out / name, dpi=110)
        plt.close(fig)
        return name

    # --- sections ----------------------------------------------------------------------------
    def w(self, s: str = "") -> None:
        self.lines.append(s)

    def section(self, title: str, prose: str | None = None) -> None:
        """A `## title` heading, then the prose paragraph if any."""
        self.w(f"## {title}")
        self.w()
        if prose:
            self.w(prose)
            self.w()

    def image(self, alt: str, chart: str | None) -> None:
        """Embeds a chart, if one was drawn."""
        if chart:
            self.w(f"![{alt}]({chart})")
            self.w()

    def verdict(self, value, target) -> str:
        if value is None:
            return "not measured"
        if self.quick:
            return "indicative only (quick run, not judged)"
        return "**met**" if value >= target else "**missed**"

    def scaling_rows(self) -> list:
        runs = self.r.get("scaling", {}).get("runs", [])
        out = []
        for server in dict.fromkeys(r["server"] for r in runs):
            for case in dict.fromkeys(r["case"] for r in runs if r["server"] == server):
                sel = [r for r in runs if r["server"] == server and r["case"] == case]
                t1 = med([r["rps"] for r in sel if r["threads"] == 1])
                t2 = med([r["rps"] for r in sel if r["threads"] == 2])
                c1 = med([r["server_cpus_used"] for r in sel if r["threads"] == 1])
                c2 = med([r["server_cpus_used"] for r in sel if r["threads"] == 2])
                wrk2 = med([r["wrk_cpus_used"] for r in sel if r["threads"] == 2])
                per_cpu = self.ratio(self.ratio(t2, c2), self.ratio(t1, c1))
                reps = []
                for rep in sorted({r["rep"] for r in sel}):
                    one = next((r for r in sel if r["rep"] == rep and r["threads"] == 1), None)
                    two = next((r for r in sel if r["rep"] == rep and r["threads"] == 2), None)
                    if one and two:
                        split = "+".join(f"{c:.2f}" for c in two.get("worker_cpus", [])) or f"{two['server_cpus_used']:.2f}"
                        reps.append(f"{two['rps'] / one['rps']:.2f}x ({split})")
                out.append({"server": server, "case": case, "t1": t1, "t2": t2, "ratio": self.ratio(t2, t1),
                            "c1": c1, "c2": c2, "wrk2": wrk2, "per_cpu": per_cpu, "reps": reps,
                            "other": max(r.get("other_load_pct", 0) for r in sel)})
        return out

    def targets(self, scaling: list) -> None:
        json_fc, json_hy, json_gr = self.rps("json", FASTCORE), self.rps("json", "hyper"), self.rps("json", "granian-rsgi")
        async_fc = self.rps("json-async", FASTCORE)
        post_fc, post_fa = self.rps("pydantic", FASTCORE), self.rps("pydantic", "fastapi-uvicorn")
        sleep_fc = self.rps("sleep", FASTCORE)
        conns = self.scenarios["sleep"]["conns"]
        sleep_cap = min(conns / 0.010, async_fc) if async_fc else None
        cpu = next((r for r in scaling if r["server"] == FASTCORE and r["case"] == "cpu"), None)
        sleep_hy = self.rps("sleep", "hyper")
        rows = [
            ("JSON hello (sync) ≥ 0.6x raw hyper", self.ratio(json_fc, json_hy), 0.6,
             f"{fmt(json_fc)} vs {fmt(json_hy)} req/s"),
            ("JSON hello (sync) ≥ 1.7x Granian RSGI on 3.13t", self.ratio(json_fc, json_gr), 1.7,
             f"{fmt(json_fc)} vs {fmt(json_gr)} req/s"),
            ("async hello ≥ 0.95x sync hello (fastcore)", self.ratio(async_fc, json_fc), 0.95,
             f"{fmt(async_fc)} vs {fmt(json_fc)} req/s"),
            ("pydantic POST ≥ 10x FastAPI + uvicorn", self.ratio(post_fc, post_fa), 10,
             f"{fmt(post_fc)} vs {fmt(post_fa)} req/s"),
            ("2 worker threads ≥ 1.8x 1 thread (3.13t, CPU-bound handler)", cpu and cpu["ratio"], 1.8,
             (f"{fmt(cpu['t2'])} vs {fmt(cpu['t1'])} req/s; per rep {', '.join(cpu['reps'])}: see Thread scaling"
              if cpu else "")),
            (f"10 ms sleep at {conns:,} connections ≥ 90% of min({conns:,}/10 ms, async hello)",
             self.ratio(sleep_fc, sleep_cap), 0.9,
             f"{fmt(sleep_fc)} of {fmt(sleep_cap)} req/s. Raw hyper reaches {fmt(sleep_hy)} in the same scenario "
             f"(fastcore = {fmt(self.ratio(sleep_fc, sleep_hy), '.2f')}x of it): one wrk thread driving {conns:,} "
             "connections from one core is part of this ceiling." if sleep_fc else ""),
        ]
        self.section("Targets (fastcore on 3.13t)")
        self.w("| target | measured | result | numbers |")
        self.w("|---|---:|---|---|")
        for name, value, target, detail in rows:
            shown = "–" if value is None else (f"{value:.2f}x" if "90%" not in name else f"{value * 100:.0f}%")
            self.w(f"| {name} | {shown} | {self.verdict(value, target)} | {detail} |")
        self.w()

    def hot_path_targets(self) -> None:
        """Issue 13's targets against raw hyper, on both builds: requests/s and server CPU per
        request, both from the same run. Met only when both ratios reach the target: the upload
        is bound by the load generator (raw hyper idles part of the time), where only the CPU
        ratio says what the server costs."""
        rows = [("path + query", "params", 0.7), ("Pydantic POST", "pydantic", 0.6),
                ("10 KB JSON", "json10k", 0.6), ("1 MB upload", "upload", 0.8)]
        builds = [s for s in ("fastcore-313t", "fastcore-gil") if any((sc, s) in self.stats for _, sc, _ in rows)]
        if not builds or not any((sc, "hyper") in self.stats for _, sc, _ in rows):
            return
        self.section("Hot-path targets against raw hyper (issue 13)",
                     "Each cell: requests/s ÷ raw hyper's, then raw hyper's server CPU per request ÷ fastcore's "
                     "(same run, medians). A target is met when both ratios reach it.")
        self.w("| target | " + " | ".join(self.servers[b]["label"] for b in builds) + " | result |")
        self.w("|---|" + "---:|" * len(builds) + "---|")
        for name, sc, target in rows:
            cells, lows = [], []
            for b in builds:
                by_rps = self.ratio(self.rps(sc, b), self.rps(sc, "hyper"))
                by_cpu = self.ratio(self.cpu_us(sc, "hyper"), self.cpu_us(sc, b))
                cells.append(f"{fmt(by_rps, '.2f')}x / {fmt(by_cpu, '.2f')}x")
                lows.append(None if by_rps is None or by_cpu is None else min(by_rps, by_cpu))
            value = None if None in lows else min(lows)
            extra = ""
            if sc == "json10k" and (sc, "robyn") in self.stats:
                # "and ahead of Robyn": every build must serve more requests/s than Robyn.
                extra = f" and ahead of Robyn ({fmt(self.ratio(self.rps(sc, 'robyn'), self.rps(sc, 'hyper')), '.2f')}x)"
                if value is not None and any(self.rps(sc, b) <= self.rps(sc, "robyn") for b in builds):
                    value = 0.0
            self.w(f"| {name} ≥ {target}x{extra} | " + " | ".join(cells) + f" | {self.verdict(value, target)} |")
        self.w()

    def servers_section(self) -> None:
        self.section("Servers",
                     "Each in its best single-core configuration: one process, one worker thread/runtime, pinned to CPU 0.")
        self.w("| server | configuration | versions |")
        self.w("|---|---|---|")
        for s, d in self.servers.items():
            vers = ", ".join(f"{k} {v}" for k, v in d["versions"].items())
            if not d["available"]:
                vers = f"**not run**: {d['unavailable']}"
            self.w(f"| {d['label']} | {d['config']} | {vers} |")
        self.w()

    def matrix_section(self) -> None:
        scen = [s for s in self.scenarios if any((s, v) in self.stats for v in self.order)]
        if not scen:
            return
        reps = self.r["meta"]["reps"]
        self.section(f"All scenarios: requests/s (median of {reps}), p99 ms, peak RSS MiB")
        self.w("| server | " + " | ".join(scen) + " |")
        self.w("|---|" + "---:|" * len(scen))
        for s in self.order:
            cells = []
            for sc in scen:
                st = self.stats.get((sc, s))
                if not st or st["rps"] is None:
                    cells.append("–")
                else:
                    cells.append(f"{st['rps']:,.0f}<br>{st['p99']:.1f} ms<br>{st['rss_mib']:.0f} MiB")
            self.w(f"| {self.servers[s]['label']} | " + " | ".join(cells) + " |")
        self.w()
        self.w("Ratios, requests/s of the server ÷ raw hyper / ÷ best peer (Granian, FastAPI, Robyn) in the same scenario:")
        self.w()
        self.w("| server | " + " | ".join(scen) + " |")
        self.w("|---|" + "---:|" * len(scen))
        for s in self.order:
            if self.servers[s]["kind"] == "baseline":
                continue
            cells = []
            for sc in scen:
                v = self.rps(sc, s)
                h = self.ratio(v, self.rps(sc, "hyper"))
                b = self.ratio(v, self.best_peer(sc)[0])
                cells.append("–" if v is None else f"{fmt(h, '.2f')} / {fmt(b, '.2f')}")
            self.w(f"| {self.servers[s]['label']} | " + " | ".join(cells) + " |")
        self.w()
        if any(self.cpu_us(sc, s) for sc in scen for s in self.order):
            self.w("Server CPU time per request, µs (median of the repetitions), and raw hyper's ÷ the server's: "
                   "the same ratio as above when the server is CPU-bound, but counting only the server's own CPU "
                   "time, so other load on the machine moves it far less:")
            self.w()
            self.w("| server | " + " | ".join(scen) + " |")
            self.w("|---|" + "---:|" * len(scen))
            for s in self.order:
                cells = []
                for sc in scen:
                    v = self.cpu_us(sc, s)
                    h = self.ratio(self.cpu_us(sc, "hyper"), v)
                    cells.append("–" if v is None else f"{v:,.1f}" + ("" if s == "hyper" else f" ({fmt(h, '.2f')}x)"))
                self.w(f"| {self.servers[s]['label']} | " + " | ".join(cells) + " |")
            self.w()
        for sc in scen:
            d = self.scenarios[sc]
            best_v, best_s = self.best_peer(sc)
            self.w(f"### {sc}: {d['title']}")
            self.w()
            self.w(f"`{d['method']} {d['path']}`, {d['conns']:,} connections. Best peer: "
                   f"{self.servers[best_s]['label'] if best_s else '–'}.")
            self.w()
            self.w("| server | req/s | p50 ms | p99 ms | peak RSS MiB | server CPU % | socket errors | non-2xx "
                   "| vs raw hyper | vs best peer | req/s per rep |")
            self.w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            for s in self.order:
                st = self.stats.get((sc, s))
                if not st:
                    continue
                if st["rps"] is None:
                    self.w(f"| {self.servers[s]['label']} | failed ({st['failed']} run(s)) |||||||||")
                    continue
                self.w(f"| {self.servers[s]['label']} | {st['rps']:,.0f} | {st['p50']:.2f} | {st['p99']:.2f} | "
                       f"{st['rss_mib']:.1f} | {fmt(st['cpu'], '.0f')} | {st['errors']} | {st['non2xx']} | "
                       f"{fmt(self.ratio(st['rps'], self.rps(sc, 'hyper')), '.2f')} | "
                       f"{fmt(self.ratio(st['rps'], best_v), '.2f')} | "
                       + ", ".join(f"{x:,.0f}" for x in st["reps"]) + " |")
            self.w()
            self.image(sc, self.bar_chart(sc))

    def issue3_section(self) -> None:
        self.section("Async runtime (issue 3)")
        j, a = self.rps("json", FASTCORE), self.rps("json-async", FASTCORE)
        s = self.rps("sleep", FASTCORE)
        conns = self.scenarios["sleep"]["conns"]
        self.w(f"- **async vs sync hello** (fastcore 3.13t): {fmt(a)} vs {fmt(j)} req/s = "
               f"{fmt(self.ratio(a, j), '.2f')}x (target ≥ 0.95x).")
        if s:
            cap = min(conns / 0.010, a or 0)
            self.w(f"- **10 ms sleep at {conns:,} connections**: {fmt(s)} req/s; ceiling min({conns:,}/0.010 s = "
                   f"{conns / 0.010:,.0f}, async hello {fmt(a)}) = {cap:,.0f}; {fmt(self.ratio(s, cap), '.0%')} of it "
                   f"(target ≥ 90%). p99 {fmt(self.stats[('sleep', FASTCORE)]['p99'], '.1f')} ms. Raw hyper, "
                   f"same scenario: {fmt(self.rps('sleep', 'hyper'))} req/s.")
        f_fc, f_fa = self.rps("fanout", FASTCORE), self.rps("fanout", "fastapi-uvicorn")
        if f_fc:
            self.w(f"- **two upstream calls** (`fastcore.gather` of two `fastcore.http.get`, upstream 5 ms): "
                   f"{fmt(f_fc)} req/s vs FastAPI + httpx on uvicorn {fmt(f_fa)} req/s = "
                   f"{fmt(self.ratio(f_fc, f_fa), '.1f')}x. The upstream is raw hyper (`/delay`) pinned to CPU 1, "
                   "sharing it with wrk.")
        mem = self.r.get("memory") or {}
        if mem:
            self.w("- **memory per suspended request**: N requests parked on an event (`fastcore.Event`; "
                   "`asyncio.Event` for FastAPI), N client connections from an asyncio script on CPU 1; "
                   "(RSS with N parked − RSS after warm-up) ÷ N. Includes each request's connection state.")
            self.w()
            self.w("| server | N parked | RSS before MiB | RSS parked MiB | per request KiB | RSS after release MiB | answered |")
            self.w("|---|---:|---:|---:|---:|---:|---:|")
            for name, m in mem.items():
                self.w(f"| {self.servers[name]['label']} | {m['parked']:,} | {m['rss_before_kb'] / 1024:.1f} | "
                       f"{m['rss_parked_kb'] / 1024:.1f} | {m['per_request_bytes'] / 1024:.1f} | "
                       f"{m['rss_after_release_kb'] / 1024:.1f} | {m['responses_ok']:,} |")
        self.w()

    def sweep_section(self) -> None:
        sweep = self.r.get("sweep") or {}
        if not sweep:
            return
        self.section("Latency vs offered load",
                     "JSON hello, 64 connections. `loadgen` (bench/hyper_baseline/src/loadgen.rs) sends at a fixed rate "
                     "and measures latency from each request's scheduled send time, so a server that falls behind shows "
                     "the queueing its clients would see (no coordinated omission). Rates are fractions of each server's "
                     "own closed-loop capacity (wrk), measured first. At the lowest rates the server idles between "
                     "requests, so latency there includes waking an idle CPU and thread on this VM; near and past "
                     "capacity, whether a queue builds up in a 5 s window varies from point to point.")
        self.image("latency vs load", self.latency_chart())
        self.w("| server | offered req/s | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors |")
        self.w("|---|---:|---:|---:|---:|---:|---:|---:|")
        for server, data in sweep.items():
            for p in data["points"]:
                self.w(f"| {self.servers[server]['label']} | {p['offered_rps']:,.0f} | {fmt(p['achieved_rps'])} | "
                       f"{fmt(p['p50_ms'], '.2f')} | {fmt(p['p90_ms'], '.2f')} | {fmt(p['p99_ms'], '.2f')} | "
                       f"{fmt(p['p999_ms'], '.2f')} | {p['errors'] + p['non2xx']} |")
        self.w()

    def scaling_section(self, rows: list) -> None:
        if not rows:
            return
        self.section("Thread scaling (3.13t): 1 vs 2 worker threads",
                     "`fastcore run --threads 1` pinned to CPU 0 vs `--threads 2` on CPUs 0-1; wrk always on CPU 1. "
                     f"The `cpu` case is {self.r['scaling'].get('handler', 'a CPU-bound handler')} per request: the "
                     "server saturates at a few thousand req/s, which costs wrk only the small, measured share of CPU 1 "
                     "shown below, so with 2 threads the load generator barely competes with the server's second thread. "
                     "The `json` case (JSON hello) is for reference only: there wrk needs a large share of CPU 1 and the two "
                     "fight for it. *Per-CPU efficiency* = (req/s per server CPU-second with 2 threads) ÷ (the same with 1): "
                     "1.0 means the threads do not slow each other down, whatever CPU they got.")
        self.w("| server | case | 1 thread req/s | 2 threads req/s | 2 ÷ 1 | scaling efficiency (÷ 2) | server CPUs used (1 → 2) "
               "| wrk CPUs used (2 threads) | per-CPU efficiency | per rep: 2 ÷ 1 (CPUs used by each worker thread) |")
        self.w("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in rows:
            self.w(f"| {r['server']} | {r['case']} | {fmt(r['t1'])} | {fmt(r['t2'])} | {fmt(r['ratio'], '.2f')}x | "
                   f"{fmt(r['ratio'] and r['ratio'] / 2, '.0%')} | {fmt(r['c1'], '.2f')} → {fmt(r['c2'], '.2f')} | "
                   f"{fmt(r['wrk2'], '.2f')} | {fmt(r['per_cpu'], '.2f')} | {', '.join(r['reps'])} |")
        self.w()
        self.w("Medians are per column, so 2 ÷ 1 is the ratio of the medians. The per-rep column splits the 2-thread "
               "server's CPU use by worker thread (from /proc/PID/task): a worker at ~0 got none of wrk's 16 "
               "connections. The workers accept from one shared listening socket, and when wrk opens its "
               "connections in one burst the first worker to wake can take all of them; the other then idles for "
               "the whole run. That is fastcore behaviour a user would see, so it stays in the median.")
        self.w()
        self.image("scaling", self.scaling_chart(rows))
        self.w("The GIL build (`fastcore-gil`) is the control: its second thread can only take turns, so 2 ÷ 1 ≈ 1.")
        self.w()

    def checks_section(self) -> None:
        checks = self.r.get("checks") or {}
        if not checks:
            return
        self.section("Body checks",
                     "Before any load, each server answers each scenario once and the answer is compared with the "
                     "reference (what bench/apps/common.py defines, as compact JSON). ✓ = byte-identical to the reference, "
                     "≈ = the same JSON value in other bytes (SHA-256 prefix shown), ✗ = wrong: status, body, content type, "
                     "or answered faster than the 10 ms sleep / 5 ms upstream allows.")
        servers = list(checks)
        self.w("| scenario | status, reference body | " + " | ".join(self.servers[s]["label"] for s in servers) + " |")
        self.w("|---|---|" + "---|" * len(servers))
        for sc, d in self.scenarios.items():
            refcell = f"{d['expect_status']}, {d['expect_len']:,} B, sha256 `{d['expect_sha256']}`"
            cells = []
            for s in servers:
                c = checks[s].get(sc)
                if not c:
                    cells.append("–")
                elif not c["ok"]:
                    cells.append(f"✗ {c.get('why', '')[:100]}")
                else:
                    cells.append("✓" if c["identical"] else f"≈ {c['len']:,} B `{c['sha256']}`")
            self.w(f"| {sc} | {refcell} | " + " | ".join(cells) + " |")
        start = [s for s, c in checks.items() if "_start" in c]
        for s in start:
            self.w()
            self.w(f"{self.servers[s]['label']} did not start: {checks[s]['_start']['why'].splitlines()[0]}")
        self.w()

    def build(self) -> str:
        m = self.r["meta"]
        scaling = self.scaling_rows()
        self.w("# fastcore benchmark report")
        self.w()
        if self.quick:
            self.w("> **QUICK run** (CI smoke check): short runs on a subset. It proves every server answers every "
                   "scenario correctly; its speed numbers are not a measurement.")
            self.w()
        self.w(f"{m['date']}, commit {m['commit']}, {m['cpus']} CPUs ({m['cpu_model']}), Linux {m['kernel']}. "
               f"{m['pinning']}. wrk `-t1`, {m['warmup']:g} s warm-up then {m['duration']:g} s measured per run, "
               f"fresh server per run, median of {m['reps']} interleaved repetition(s). {m['wrk']}; {m['rustc']}. "
               "Method: bench/README.md.")
        self.w()
        for mg in self.r.get("merged", []):
            what = f"parts {', '.join(mg['parts'])}"
            if {"matrix", "checks"} & set(mg["parts"]):
                what += f" of servers {', '.join(mg['servers'])}"
            if "matrix" in mg["parts"]:
                what += f", scenarios {', '.join(mg['scenarios'])}"
            self.w(f"Re-measured on {mg['date']} (commit {mg['commit']}, CPUs {mg.get('busy_before_pct', '?')}% busy "
                   f"before): {what}. Everything else is from the run above.")
            self.w()
        # The harness's summary of other load is replaced by the exact list of affected runs.
        notes = [n for n in dict.fromkeys(self.r.get("notes", []))
                 if not n.startswith("WARNING: other processes took up to")]
        fails = self.r.get("failures", [])
        loaded = [r for r in self.r["runs"] if r.get("other_load_pct", 0) > 10]
        if loaded:
            by_scenario: dict = {}
            for r in loaded:
                by_scenario.setdefault((r["scenario"], r["rep"]), []).append(r["other_load_pct"])
            where = "; ".join(f"{sc} rep {rep} (up to {max(v):.0f}%)" for (sc, rep), v in by_scenario.items())
            self.w(f"> WARNING: other processes took over 10% of the CPUs during {len(loaded)} of "
                   f"{len(self.r['runs'])} measured runs: {where}. The medians of the repetitions damp this; "
                   "compare the per-rep columns.")
            self.w()
        if notes or fails:
            for n in notes:
                self.w(f"> {n}")
                self.w()
            for f in fails:
                self.w(f"> FAILURE: {f.splitlines()[0]}")
                self.w()
        self.targets(scaling)
        self.hot_path_targets()
        self.servers_section()
        self.matrix_section()
        self.issue3_section()
        self.sweep_section()
        self.scaling_section(scaling)
        self.checks_section()
        return "\n".join(self.lines) + "\n"


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results")
    text = Report(out).build()
    (out / "REPORT.md").write_text(text)
    print(f"[bench] wrote {out / 'REPORT.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
