"""App factory and lifespan: one Neo4j driver per process, schema applied at start-up."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from converge_graph import __version__
from converge_graph.api import (
    browser,
    clusters,
    cors,
    destinations,
    errors,
    health,
    ingest,
    jsonbody,
    merges,
    observability,
    ratelimit,
    sdk,
    segment,
    segment_cors,
)
from converge_graph.core.policy import Policy
from converge_graph.errors import DatabaseUnavailable
from converge_graph.service import Service
from converge_graph.service.commit import GroupCommit
from converge_graph.service.delivery import Deliverer
from converge_graph.settings import Settings

log = logging.getLogger("converge_graph")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    policy = Policy.load(settings.policy_file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = Service.open(settings, policy)  # loads every query file: fails fast
        try:
            await run_in_threadpool(service.apply_schema)
        except DatabaseUnavailable as exc:
            # Start anyway: /readyz answers 503 and applies the schema once Neo4j is back.
            log.warning("Neo4j unavailable at start-up: %s", exc.message)
        app.state.service = service
        observability.attach(app, service)
        app.state.committer = GroupCommit(
            service, max_wait=settings.group_commit_wait_ms / 1000,
            max_items=settings.group_commit_max, workers=settings.group_commit_workers,
        )
        await app.state.committer.start()
        # Delivery workers (docs/destinations.md), unless CVG_DELIVERY_WORKERS=0 leaves
        # them to a `converge-graph deliver` process.
        app.state.deliverer = Deliverer(service)
        app.state.deliverer.observers.append(app.state.metrics.observe_delivery)
        app.state.deliverer.start()
        try:
            yield
        finally:
            await run_in_threadpool(app.state.deliverer.stop)
            await app.state.committer.stop()
            service.close()

    app = FastAPI(
        title="converge-graph",
        version=__version__,
        description="Identity resolution for customer event data, stored in Neo4j.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(clusters.lookups)  # the hottest routes first: matched in order
    app.include_router(health.router)
    app.include_router(ingest.router)
    app.include_router(sdk.router)
    app.include_router(clusters.router)
    app.include_router(merges.router)
    app.include_router(browser.router)
    app.include_router(destinations.router)
    app.include_router(segment.router)
    if settings.demo:
        from converge_graph.api import demo

        app.include_router(demo.router)
    app.add_middleware(
        CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=True,
        allow_methods=["GET", "POST"], allow_headers=["Content-Type", "Authorization"],
    )
    # analytics.js preflights carry no key: answered before the app's CORS can refuse them.
    app.add_middleware(segment_cors.SegmentPreflight, matches=segment.is_web_path)
    # The Segment routes read, bound and decompress their own bodies (api/segment_body.py).
    app.add_middleware(
        errors.BodyLimit, event_bytes=settings.max_event_bytes,
        batch_bytes=settings.max_batch_bytes, own_limits=segment.PATHS,
    )
    jsonbody.install(app, skip=segment.PATHS)  # innermost: after the size limits
    ratelimit.install(app, settings)  # before any body is read
    cors.install(app)  # per-datasource CORS of the browser routes, around their 429s
    observability.install(app)  # outermost: times and logs every answer
    return app
