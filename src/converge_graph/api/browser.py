"""The Neo4j Browser stylesheet and guide, served so that Browser can fetch them
(`:style http://localhost:8000/browser/style.grass`, `:play …/browser/guide.html`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

router = APIRouter(tags=["browser"])

# Browser fetches these cross-origin (from :7474) with pragma/cache-control headers.
OPEN = {"Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Headers": "pragma, cache-control, content-type",
        "Access-Control-Allow-Methods": "GET, OPTIONS"}
FILES = {"style.grass": "text/plain; charset=utf-8", "guide.html": "text/html; charset=utf-8"}


@router.get("/browser/{name}", include_in_schema=False)
def browser_file(name: str, request: Request) -> Response:
    if name not in FILES:
        return PlainTextResponse("not found", status_code=404)
    path = request.app.state.service.settings.cypher_dir / "browser" / name
    return Response(path.read_text(encoding="utf-8"), media_type=FILES[name], headers=OPEN)


@router.options("/browser/{name}", include_in_schema=False)
def browser_preflight() -> Response:
    return Response(status_code=204, headers=OPEN)
