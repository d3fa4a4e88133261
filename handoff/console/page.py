"""The console's one HTML page (``handoff/static/console.html``) and its scripts and styles, which use only the API."""

from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).parent.parent / "static"
PAGE_ASSETS = ("console.css", "console-core.js", "console-conversations.js", "console-queues.js", "console-held.js",
               "console-events.js", "incidents.js")
"""Served at ``/<name>``: the page's styles, its scripts by concern, and the security incident banner."""
PAGE_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'"


def add_page(app: web.Application) -> None:
    app.router.add_get("/", console_page)
    for name in PAGE_ASSETS:
        app.router.add_get(f"/{name}", page_asset)


async def console_page(request: web.Request) -> web.FileResponse:
    response = web.FileResponse(STATIC_DIR / "console.html")
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


async def page_asset(request: web.Request) -> web.FileResponse:
    name = request.path.lstrip("/")
    kind = "text/css" if name.endswith(".css") else "text/javascript"
    return web.FileResponse(STATIC_DIR / name, headers={"Content-Type": kind})
