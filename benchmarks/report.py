"""The benchmark's outputs: a rich table, ``latest.json`` and ``latest.png``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

MIB = 1024 * 1024


def _get(report: dict[str, Any], *path: str) -> Any:
    node: Any = report
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _rate(value: float | None) -> str:
    return f"{value:,.0f} events/s" if value is not None else "—"


def _quality(q: dict[str, Any] | None) -> str:
    if not q:
        return "—"
    text = (f"P {q['precision']:.4f}  R {q['recall']:.4f}  F1 {q['f1']:.4f}  "
            f"({q['clusters']:,} clusters for {q['persons']:,} persons)")
    k = q.get("knowable")
    if k:
        text += (f"\nknowable events only ({k['events']:,} of {q['events']:,}): "
                 f"P {k['precision']:.4f}  R {k['recall']:.4f}  F1 {k['f1']:.4f}")
    return text


def rows(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    p = report.get("phases", {})
    ceiling = _get(p, "ceiling", "events_per_s")
    raw = _get(p, "ceiling", "raw", "events_per_s")

    def vs_ceiling(rate: float | None) -> str:
        out = f" = {rate / raw:.0%} of the raw ceiling" if rate and raw else ""
        return out + (f", {rate / ceiling:.0%} of same-schema" if rate and ceiling else "")

    out = []
    batch = _get(p, "batch", "events_per_s")
    if "batch" in p:
        lat = p["batch"]["request_latency"]
        out.append(("ingest: batch endpoint, 500 per request", _rate(batch) + vs_ceiling(batch)
                    + f"\nper request p50 {lat['p50_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms",
                    "≥ 0.30 × raw ceiling"))
    if "single" in p:
        s = p["single"]
        lat = s["request_latency"]
        ratio = f" = {s['events_per_s'] / batch:.2f} × batch" if batch else ""
        out.append((f"ingest: single-event HTTP, {s['concurrency']} clients",
                    _rate(s["events_per_s"]) + ratio
                    + f"\nlatency p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms"
                    + (f"\nCPU per event: API {s['cpu_per_event']['api_ms']:.2f} ms, load "
                       f"generator {s['cpu_per_event']['load_generator_ms']:.2f} ms"
                       if s.get("cpu_per_event") else "")
                    + (f"\nAPI memory after {s['api_memory_after']['peak_rss'] / MIB:,.0f} "
                       "MiB peak" if s.get("api_memory_after") else ""),
                    "≥ 0.5 × batch, p99 ≤ 100 ms, ≤ 300 MiB"))
    if "ordered" in p:
        o = p["ordered"]
        lat = o["request_latency"]
        out.append(("ingest: single-event HTTP, 1 client in arrival order",
                    _rate(o["events_per_s"])
                    + f"\nlatency p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms"
                    + (f"\ndurable commit floor (one CREATE over Bolt) p50 "
                       f"{o['commit_floor']['p50_ms']:.1f} ms, p99 "
                       f"{o['commit_floor']['p99_ms']:.1f} ms" if o.get("commit_floor") else ""),
                    "p50 ≤ 3 ms"))
    if "import" in p:
        i = p["import"]
        out.append(("ingest: converge-graph import (.jsonl.gz)",
                    _rate(i["events_per_s"]) + vs_ceiling(i["events_per_s"])
                    + f"\nwall incl. start-up {_rate(i['wall_events_per_s'])}", ""))
    if "segment" in p:
        sg, nat = p["segment"]["segment"], p["segment"]["native"]
        out.append((f"ingest: Segment /v1/batch, {p['segment']['batch']} per request",
                    _rate(sg["events_per_s"]) + f" (native batch route, same batches: "
                    f"{_rate(nat['events_per_s'])})\nper request p50 "
                    f"{sg['request_latency']['p50_ms']:.0f} ms, p99 "
                    f"{sg['request_latency']['p99_ms']:.0f} ms", "close to native"))
    if "ceiling" in p:
        c = p["ceiling"]
        if "raw" in c:
            r = c["raw"]
            out.append(("Neo4j raw ceiling: UNWIND … CREATE, no constraints, no lookups, "
                        f"{r['chunk_events']:,} events a transaction", _rate(r["events_per_s"])
                        + f"\n{r['nodes']:,} nodes + {r['relationships']:,} rels in "
                        f"{r['seconds']} s", "reference"))
        out.append(("Neo4j same-schema ceiling: UNWIND … CREATE, our constraints, "
                    "500 events a transaction", _rate(c["events_per_s"])
                    + f"\n{c['nodes']:,} nodes + {c['relationships']:,} rels in {c['seconds']} s",
                    "reference"))
    for row in _get(p, "lookup", "at") or []:
        h, b = row["http"], row["bolt"]
        out.append((f"lookup by alias at {row['events']:,} events",
                    f"HTTP p50 {h['p50_ms']:.1f} ms, p99 {h['p99_ms']:.1f} ms\n"
                    f"Bolt query p50 {b['p50_ms']:.2f} ms, p99 {b['p99_ms']:.2f} ms",
                    "p99 ≤ 5 ms at 100k and 1M"))
    if "deliveries" in p:
        d = p["deliveries"]
        lat = d["end_to_end_latency"]
        out.append(("destinations: ingest (batch) with two vs none",
                    f"{_rate(d['ingest_events_per_s_two_destinations'])} vs "
                    f"{_rate(d['ingest_events_per_s_no_destination'])}", "small cost"))
        out.append(("destinations: delivery by the API's workers",
                    f"{d['deliveries_per_s']:,.0f} deliveries/s "
                    f"({d['delivered']:,} of {d['deliveries']:,})\n"
                    f"commit → 2xx p50 {lat['p50_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms", ""))
    out.append(("quality: ours, batch path (cookie as alias)",
                _quality(_get(p, "batch", "quality")), "P ≥ 0.995, R ≥ 0.98"))
    out.append(("quality: ours with policies/one-email.toml, batch path",
                _quality(_get(p, "one_email", "quality")), ""))
    out.append(("quality: truth-aware ideal (links only through one person's aliases)",
                _quality(_get(report, "quality_baselines", "ideal")), "the attainable"))
    ours, ideal = _get(p, "batch", "quality"), _get(report, "quality_baselines", "ideal")
    if ours and ideal:
        out.append(("quality: ours (batch) against the ideal",
                    f"P {ours['precision'] - ideal['precision']:+.4f}, "
                    f"R × {ours['recall'] / ideal['recall']:.3f} of the ideal's",
                    "P ≥ 0.99, R ≥ 0.98 × ideal"))
    out.append(("quality: ours, single-event HTTP (collect + webhook)",
                _quality(_get(p, "single", "quality")), "P ≥ 0.995, R ≥ 0.98"))
    out.append(("quality: naive stitching, exact strings",
                _quality(_get(report, "quality_baselines", "naive_exact")), "well below ours"))
    out.append(("quality: naive stitching, trimmed + lower-cased",
                _quality(_get(report, "quality_baselines", "naive_normalised")), ""))
    peak = _get(report, "api_memory", "peak_rss")
    out.append(("API process peak memory (VmHWM)", f"{peak / MIB:,.0f} MiB" if peak else "—", ""))
    store = _get(p, "lookup", "store") or {}
    if store.get("bytes"):
        out.append(("Neo4j store per 1M events",
                    f"{store['bytes_per_million_events'] / MIB:,.0f} MiB "
                    f"(store {store['bytes'] / MIB:,.0f} MiB at {store['events']:,} events)", ""))
    else:
        out.append(("Neo4j store per 1M events", store.get("note", "—"), ""))
    prof = p.get("profile") or {}
    if "events_per_s" in prof:
        out.append((f"profiled batch ({prof['events']} events, in-process)",
                    f"{prof['seconds']} s = {_rate(prof['events_per_s'])}", ""))
    return out


def print_table(report: dict[str, Any], console: Console) -> None:
    stream = report.get("stream", {})
    machine = report["machine"]
    load = machine.get("loadavg_at_end") or machine.get("loadavg_at_start")
    table = Table(title=f"converge-graph benchmark — {stream.get('events', 0):,} events, "
                        f"{stream.get('persons', 0):,} persons, {machine['cpus']} CPUs"
                        + (f" (load {load[2]:.1f} over 15 min)" if load else "")
                        + f", {machine['neo4j']}", show_lines=True)
    table.add_column("figure", style="bold")
    table.add_column("measured")
    table.add_column("goal", style="dim")
    for figure, measured, goal in rows(report):
        table.add_row(figure, measured, goal)
    console.print(table)
    prof = _get(report, "phases", "profile", "hot_spots")
    if prof:
        hot = Table(title="hot spots of one batch ingest (pyinstrument, own time)")
        hot.add_column("frame")
        hot.add_column("s", justify="right")
        hot.add_column("share", justify="right")
        for row in prof[:10]:
            hot.add_row(row["frame"], f"{row['seconds']:.3f}", f"{row['share']:.0%}")
        console.print(hot)
    queries = _get(report, "phases", "profile", "queries")
    if queries:
        trips = Table(title="Neo4j round trips of one batch ingest (wall time per query)")
        trips.add_column("query")
        trips.add_column("calls", justify="right")
        trips.add_column("s", justify="right")
        for row in queries[:12]:
            trips.add_row(row["query"], str(row["calls"]), f"{row['seconds']:.3f}")
        console.print(trips)


def write_json(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")


def write_plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = report.get("phases", {})
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2))
    ax = axes[0]
    labels, values = [], []
    for key, label in (("batch", "batch endpoint"), ("single", "single HTTP ×32"),
                       ("import", "import CLI"), ("ceiling", "Neo4j ceiling")):
        if key in p:
            labels.append(label)
            values.append(p[key]["events_per_s"])
    ax.barh(labels, values, color=["#3b7dd8", "#3b7dd8", "#3b7dd8", "#999999"][:len(values)])
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:,.0f}", va="center")
    ax.axvline(10_000, color="#c33", ls="--", lw=1, label="goal: 10,000/s")
    ax.set_title("ingest (events/s)")
    ax.invert_yaxis()
    ax.legend(loc="lower right")

    ax = axes[1]
    at = _get(p, "lookup", "at") or []
    if at:
        xs = [r["events"] for r in at]
        for proto, style in (("http", "-"), ("bolt", ":")):
            for q, color in (("p50_ms", "#3b7dd8"), ("p99_ms", "#d87a3b")):
                ax.plot(xs, [r[proto][q] for r in at], style, marker="o", color=color,
                        label=f"{proto.upper()} {q[:3]}")
        ax.set_xscale("log")
        ax.axhline(5, color="#c33", ls="--", lw=1, label="goal: p99 < 5 ms")
        ax.legend()
    ax.set_title("lookup by alias (ms) vs events in the graph")
    ax.set_xlabel("events")

    ax = axes[2]
    series = [("ours, batch", _get(p, "batch", "quality")),
              ("ours, single", _get(p, "single", "quality")),
              ("ideal", _get(report, "quality_baselines", "ideal")),
              ("naive exact", _get(report, "quality_baselines", "naive_exact")),
              ("naive trimmed", _get(report, "quality_baselines", "naive_normalised"))]
    series = [(n, q) for n, q in series if q]
    width = 0.8 / max(len(series), 1)
    lowest = 1.0
    for k, (name, q) in enumerate(series):
        xs = [m + k * width for m in range(3)]
        values = [q["precision"], q["recall"], q["f1"]]
        lowest = min(lowest, *values)
        bars = ax.bar(xs, values, width, label=name)
        ax.bar_label(bars, fmt="%.3f", fontsize=7, rotation=90, padding=2)
    ax.set_xticks([m + width * (len(series) - 1) / 2 for m in range(3)],
                  ["precision", "recall", "F1"])
    ax.set_ylim(max(0.0, lowest - 0.1), 1.03)
    ax.axhline(0.995, color="#c33", ls="--", lw=1)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=4, fontsize=8)
    ax.set_title("pairwise quality vs ground truth (all events)")
    fig.suptitle(f"converge-graph benchmark {report.get('started_at', '')} "
                 f"({report.get('git', '')})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
