"""Errors rendered in one place (STYLE 5): ``error.html`` for pages, JSON for ``/api/``; the
text never carries an exception, a traceback or SQL."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger("volcredit.portal")

_TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "没有权限",
    404: "页面不存在",
    405: "请求方式不支持",
    413: "内容过大",
    429: "尝试次数过多",
    500: "系统内部错误",
}


def error_page(request: Request, status: int, message: str) -> Response:
    title = _TITLES.get(status, "出错了")
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": title, "message": message}, status_code=status)
    from portal.forms import render

    return render(
        request, "error.html", {"status": status, "title": title, "message": message}, status
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {
        404: "您访问的页面不存在，请检查地址，或从首页重新进入。",
        405: "此地址不接受这种请求方式。",
    }
    return error_page(request, exc.status_code, messages.get(exc.status_code, "请求无法处理。"))


async def server_error(request: Request, exc: Exception) -> Response:
    """Log the exception for operators; tell the user only that something went wrong."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    try:
        return error_page(request, 500, "系统暂时无法处理您的请求，请稍后再试。问题已记录。")
    except Exception:  # the error page itself failed: a plain answer, still without details
        return Response("系统内部错误。", status_code=500, media_type="text/plain; charset=utf-8")
