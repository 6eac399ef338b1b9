"""Public search (BJ-14a): HTML without JavaScript and JSON, over public projections only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.context import portal_of
from portal.forms import render
from portal.guards import public
from portal.record import page_number


@public
async def search_page(request: Request) -> Response:
    portal = portal_of(request)
    q = request.query_params.get("q", "")
    results = portal.search.search(q, page_number(request.query_params.get("page")))
    return render(request, "search.html", {"results": results, "q": q})


@public
async def search_api(request: Request) -> Response:
    portal = portal_of(request)
    q = request.query_params.get("q", "")
    results = portal.search.search(q, page_number(request.query_params.get("page")))
    return JSONResponse(
        {
            "query": results.query,
            "total": results.total,
            "page": results.page,
            "hits": [h.__dict__ | {"url": "/" + h.url.lstrip("/")} for h in results.hits],
        }
    )


@public
async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})
