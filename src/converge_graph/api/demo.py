"""The demo shop (`make run` only, CVG_DEMO=true): a product page wired to cvg(), and a
"my identity" page that shows the visitor their own cluster, found by their own cookie.

"My identity" needs a read key, like every read: a cookie is no credential (any page can
set ``__cvg_uid`` to someone else's id), so without one it would show anyone's cluster."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from converge_graph.api.deps import ReadKey, ServiceDep
from converge_graph.errors import NotFound

router = APIRouter(tags=["demo"], include_in_schema=False)


def _page(name: str) -> str:
    return resources.files("converge_graph").joinpath(f"static/{name}").read_text("utf-8")


@router.get("/demo", response_class=HTMLResponse)
def demo_shop() -> str:
    return _page("demo.html")


@router.get("/demo/me", dependencies=[ReadKey])
async def my_identity(request: Request, service: ServiceDep) -> dict:
    """Only the caller's own cluster: the one holding the caller's own browser cookie."""
    cookie = request.cookies.get(service.settings.cookie_name)
    if not cookie:
        raise NotFound("no __cvg_uid cookie yet: click around the shop first", field="cookie")
    cluster_id = await run_in_threadpool(service.lookup, f"urn:cookie:{cookie}")
    return await run_in_threadpool(service.cluster, cluster_id)
