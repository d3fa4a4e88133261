"""The console's one HTML page (``handoff/static/console.html``), which uses only the API."""

from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).parent.parent / "static"


async def console_page(request: web.Request) -> web.FileResponse:
    response = web.FileResponse(STATIC_DIR / "console.html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'"
    )
    return response


async def incidents_script(request: web.Request) -> web.FileResponse:
    """The page's security incident banner (``handoff/static/incidents.js``)."""
    return web.FileResponse(STATIC_DIR / "incidents.js", headers={"Content-Type": "text/javascript"})
