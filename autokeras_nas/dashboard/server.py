"""The dashboard's web server: a Starlette app (`create_app`) served by
uvicorn (`serve`, `start_background`).

Endpoints (all GET unless said; JSON unless said):

    /                              the page (HTML)
    /static/NAME                   its script, style sheet and plotly.min.js (whitelisted names)
    /api/config                    {"allow_edit", "searches": [summary, ...]}
    /api/searches                  the summaries only (each with its file `version`: the page
                                   polls this and refetches what changed)
    /api/s/SID/leaderboard         the leaderboard, in columns
    /api/s/SID/trial/TID           one trial in full, its architecture graph
    /api/s/SID/progress            best so far against trials and time, the edits placed
    /api/s/SID/view/NAME           pareto (?x=&y=), hyperparameters, space, oneshot, lineage,
                                   edits
    POST /api/s/SID/edits          {"action", "param", "value"}: a steering edit (--allow-edit)

Nothing else is served: SID and TID are looked up among the searches the
command was given and the trials of their results, never used as paths.

Safety: without a token the server answers only requests whose Host is a
loopback name (127.0.0.1, localhost, [::1]: a page of another site cannot
reach it through DNS rebinding); with a token (required on a non-loopback
host) every request carries it: `?token=` once (sets an HttpOnly cookie),
the cookie, or the header `X-Dashboard-Token`; else 401. Edits need
--allow-edit (else 403), a JSON body, and a same-origin request (Origin
matching Host, no cross-site Sec-Fetch-Site) or the token header.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ipaddress
import json
import logging
import os
import secrets
import socket
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qs, urlsplit

from autokeras_nas.dashboard import data
from autokeras_nas.dashboard.data import DashboardError, NotFound, Search

INSTALL_HINT = 'pip install "autokeras-nas[dashboard]"'

try:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
    from starlette.routing import Route
except ImportError as e:  # pragma: no cover - the extra is installed for the tests
    raise ImportError(f"the dashboard needs {e.name}: {INSTALL_HINT}") from None

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
#: The page's files: URL name -> (file name in static/, media type).
STATIC_FILES = {
    "dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
}
TOKEN_HEADER = "x-dashboard-token"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # plotly's WebGL traces (scattergl, parcoords) compile their drawing code
    # with `new Function` (regl): 'unsafe-eval', scripts still from this server only.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; worker-src 'self' blob:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
}


def plotly_js() -> Path:
    """plotly.js as the plotly package ships it (found without importing plotly).

    Raises:
        DashboardError: plotly is not installed.
    """
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise DashboardError(f"the dashboard needs plotly: {INSTALL_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]) / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise DashboardError(f"plotly.min.js is missing from the plotly package at {path}: "
                             f"{INSTALL_HINT}")
    return path


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is the loopback interface only."""
    if host.strip("[]") in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(host_header: str) -> str:
    """The host of a Host header value, without its port."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class Guard:
    """ASGI middleware: the token or loopback-Host check of every request."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.app = app
        self.token = token

    def cookie_name(self, scope: dict[str, Any]) -> str:
        server = scope.get("server") or ("", 0)
        return f"aknas_dashboard_{server[1]}"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers") or []}
        if self.token is None:
            if not is_loopback(_host_name(headers.get("host", ""))):
                await _plain(403, "this dashboard answers on its loopback address only")(
                    scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header: no cookie
            cookie = SimpleCookie()
        name = self.cookie_name(scope)
        candidates = [headers.get(TOKEN_HEADER, ""), cookie[name].value if name in cookie else "",
                      *query.get("token", [])]
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            candidates.append(auth[7:].strip())
        if not any(c and secrets.compare_digest(c.encode(), self.token.encode())
                   for c in candidates):
            await _plain(401, "this dashboard needs its token: open the address the command "
                         "printed (with ?token=...)")(scope, receive, send)
            return
        if not query.get("token"):
            await self.app(scope, receive, send)
            return
        # The token came in the query: keep it in a cookie, and take the
        # page to its address without the token.
        set_cookie = (f"{name}={self.token}; HttpOnly; SameSite=Strict; Path=/").encode()
        if scope.get("path") == "/" and scope.get("method") == "GET":
            response = RedirectResponse("/", status_code=303)
            response.raw_headers.append((b"set-cookie", set_cookie))
            await response(scope, receive, send)
            return

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = dict(message, headers=list(message.get("headers") or [])
                               + [(b"set-cookie", set_cookie)])
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class SecurityHeaders:
    """ASGI middleware: no sniffing, no framing, no caching of the API."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                if scope.get("path", "").startswith("/api/") or scope.get("path") == "/":
                    extra.append((b"cache-control", b"no-store"))
                message = dict(message, headers=list(message.get("headers") or []) + extra)
            await send(message)

        await self.app(scope, receive, with_headers)


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status_code=status, media_type="text/plain; charset=utf-8")


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def create_app(searches: Iterable[Search], *, allow_edit: bool = False,
               token: str | None = None) -> Any:
    """The dashboard's ASGI app over `searches` (from `data.discover`).

    Args:
        allow_edit: accept steering edits (POST); else they answer 403.
        token: required from every request when given (see the module).
    """
    by_id = {s.id: s for s in searches}
    plotly_path = plotly_js()
    index_html = (STATIC / "index.html").read_bytes()

    def search_of(request: Request) -> Search:
        search = by_id.get(request.path_params["sid"])
        if search is None:
            raise NotFound("no such search")
        return search

    def index(request: Request) -> Response:
        return Response(index_html, media_type="text/html; charset=utf-8")

    def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "plotly.min.js":
            return FileResponse(plotly_path, media_type="text/javascript; charset=utf-8",
                                headers={"Cache-Control": "max-age=3600"})
        if name not in STATIC_FILES:
            return _plain(404, "not found")
        file, media = STATIC_FILES[name]
        return FileResponse(STATIC / file, media_type=media, headers={"Cache-Control": "no-cache"})

    def config(request: Request) -> Response:
        return _json(data.dumps({"allow_edit": allow_edit, "token": token is not None,
                                 "searches": [s.summary() for s in by_id.values()]}))

    def searches_(request: Request) -> Response:
        return _json(data.dumps([s.summary() for s in by_id.values()]))

    def computed(what: str, build: Any) -> Response:
        """`build()`'s JSON; a view that fails to compute (data the
        analysis did not expect) answers 500 with a one-line reason, and
        the other views keep working."""
        try:
            return _json(build())
        except NotFound:
            raise
        except Exception as e:  # noqa: BLE001 - any failure of one view
            log.exception("cannot compute the %s view", what)
            return _error(500, f"cannot compute the {what} view: "
                               + " ".join(f"{type(e).__name__}: {e}".split())[:300])

    def leaderboard(request: Request) -> Response:
        return computed("leaderboard", search_of(request).leaderboard)

    def trial(request: Request) -> Response:
        search = search_of(request)
        return computed("trial", lambda: search.trial(request.path_params["tid"]))

    def progress(request: Request) -> Response:
        return computed("best-so-far", search_of(request).progress)

    def view(request: Request) -> Response:
        search, name = search_of(request), request.path_params["view"]
        return computed(name, lambda: search.view(name, dict(request.query_params)))

    async def edits(request: Request) -> Response:
        search = search_of(request)
        if request.method == "GET":
            return _json(search.view("edits", {}))
        if not allow_edit:
            return _error(403, "read-only dashboard: start it with --allow-edit to steer")
        problem = _cross_site(request, token)
        if problem:
            return _error(403, problem)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _error(415, "send the edit as JSON (Content-Type: application/json)")
        body = await request.body()
        if len(body) > 10_000:
            return _error(413, "edit too large")
        try:
            edit = json.loads(body)
        except ValueError:
            return _error(400, "the body is not JSON")
        if not isinstance(edit, dict):
            return _error(400, "send a JSON object {action, param, value}")
        try:
            record = await asyncio.to_thread(search.add_edit, edit.get("action"),
                                             edit.get("param"), edit.get("value"))
        except ValueError as e:
            return _error(400, " ".join(str(e).split()))
        return _json(data.dumps(record), status=201)

    async def not_found(request: Request, exc: Exception) -> Response:
        if isinstance(exc, NotFound):
            return _error(404, str(exc))
        return _plain(404, "not found")

    routes = [
        Route("/", index),
        Route("/static/{name}", static),
        Route("/api/config", config),
        Route("/api/searches", searches_),
        Route("/api/s/{sid}/leaderboard", leaderboard),
        Route("/api/s/{sid}/trial/{tid}", trial),
        Route("/api/s/{sid}/progress", progress),
        Route("/api/s/{sid}/view/{view}", view),
        Route("/api/s/{sid}/edits", edits, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={NotFound: not_found, 404: not_found})
    return SecurityHeaders(Guard(app, token))


def _cross_site(request: Request, token: str | None) -> str | None:
    """Why an edit request may come from another site (None: same origin)."""
    if token is not None:
        given = request.headers.get(TOKEN_HEADER, "")
        if given and secrets.compare_digest(given.encode(), token.encode()):
            return None
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return "edits are accepted from the dashboard's own page only"
    origin = request.headers.get("origin")
    host = request.headers.get("host", "")
    if not origin or urlsplit(origin).netloc.lower() != host.lower():
        return "edits are accepted from the dashboard's own page only (Origin does not match)"
    return None


# -- serving --------------------------------------------------------------------
def resolve_token(host: str, token: str | None) -> str | None:
    """The token to require: the given one; a new one on a non-loopback
    host; None on loopback without one."""
    if token is not None:
        if not token.strip():
            raise DashboardError("--token must not be empty")
        return token
    return None if is_loopback(host) else secrets.token_urlsafe(24)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one).

    Raises:
        DashboardError: the address cannot be bound (in use, unknown host).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise DashboardError(f"cannot listen on {host}: {e.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as e:
        sock.close()
        hint = " (pass another --port, or 0 for a free one)" if port else ""
        raise DashboardError(f"cannot listen on {host}:{port}: {e.strerror or e}{hint}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket, host: str, token: str | None) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def _server(app: Any) -> Any:
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    return uvicorn.Server(config)


def serve(directories: Iterable[str | os.PathLike], *, host: str = "127.0.0.1", port: int = 8765,
          allow_edit: bool = False, token: str | None = None, echo: Any = print) -> None:
    """Serves the dashboard of `directories` until interrupted.

    Raises:
        DashboardError: a directory holds no search, or the address cannot be bound.
    """
    searches = data.discover(directories)
    token = resolve_token(host, token)
    app = create_app(searches, allow_edit=allow_edit, token=token)
    sock = bind(host, port)
    for search in searches:  # read and tabulated before the page asks
        search.leaderboard()
    names = ", ".join(s.name for s in searches)
    echo(f"dashboard of {len(searches)} search{'es' * (len(searches) != 1)} ({names})")
    if allow_edit:
        echo("steering is on (--allow-edit): the page can exclude and pin hyperparameter values")
    if token is not None:
        echo("every request needs the token: open the address below once (it sets a cookie)")
    echo(f"open {url_of(sock, host, token)}  (Ctrl+C stops)")
    _server(app).run(sockets=[sock])


class BackgroundServer:
    """A dashboard served from a thread (tests, notebooks): `url`, `stop()`."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = bind(host, port)
        self.url = url_of(self.sock, host, None)
        self.server = _server(app)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the dashboard server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> "BackgroundServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_background(directories: Iterable[str | os.PathLike], *, allow_edit: bool = False,
                     token: str | None = None, host: str = "127.0.0.1",
                     port: int = 0) -> BackgroundServer:
    """The dashboard of `directories` served from a thread on host:port (0:
    a free port); `stop()` it (or use it in a `with`)."""
    app = create_app(data.discover(directories), allow_edit=allow_edit, token=token)
    return BackgroundServer(app, host, port)
