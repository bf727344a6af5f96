"""A browser app beside the sandbox: its static files at the origin of the app client's callback
URL, and ``config.json`` telling it where the sandbox's hosted UI and API are.

``jwt-scoped sandbox --web DIR`` serves ``DIR`` (``examples/web`` in this repository) on the
port of the first ``http://localhost:<port>`` callback URL of the first app client that takes the
code grant, so the hosted UI's redirect comes back to the app. ``GET /config.json`` is
``web_config``; any other path is a file under ``DIR`` (a path without a file extension that
names no file gets ``index.html``, so ``/callback`` loads the app); nothing outside ``DIR`` is
ever served.

For a deployed stack, the same ``config.json`` can be written from the stack's outputs (see
docs/sandbox.md): the app reads nothing else.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jwt_scoped.access.matrix import AccessMatrix
from jwt_scoped.access.model import StackModel
from jwt_scoped.access.state import SANDBOX_KEY, USER_POOLS
from jwt_scoped.access.verify import url_for

CONFIG_PATH = "/config.json"
INDEX = "index.html"
LOCAL_HOSTS = ("localhost", "127.0.0.1")


class WebError(Exception):
    """The app cannot be served for this stack; the message says why."""


def callback_of(model: StackModel) -> tuple[Any, Any, str]:
    """(pool, client, callback URL): the first app client with the code grant and a callback on
    this machine (``http://localhost:<port>/...``), of a pool with a domain."""
    for pool in model.pools:
        for client in pool.user_clients:
            if pool.domain is None or "code" not in client.oauth_flows:
                continue
            for url in client.callback_urls:
                parts = urlsplit(url)
                if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS and parts.port:
                    return pool, client, url
    raise WebError("no app client takes the code grant with a callback URL on this machine "
                   "(http://localhost:<port>/...): add one to callbackUrls to serve a web app")


def web_config(model: StackModel, matrix: AccessMatrix) -> dict[str, Any]:
    """What the browser app needs: the issuer to discover, its client, its callback, the token
    the API takes, and every route with the URL it answers at. Pure."""
    pool, client, callback = callback_of(model)
    local = ((model.extra.get(SANDBOX_KEY) or {}).get(USER_POOLS) or {}).get(pool.id) or {}
    api_url = next((api.invoke_url for api in model.apis if api.invoke_url), "")
    logout = next(iter(client.logout_urls), None)
    return {"authority": local.get("local_issuer", pool.issuer),
            "discoveryUrl": local.get("discovery_url",
                                      pool.issuer + "/.well-known/openid-configuration"),
            "clientId": client.id, "redirectUri": callback, "logoutUri": logout,
            "scopes": list(client.oauth_scopes), "tokenUse": str(matrix.token_use),
            "routes": [{"route": r.key, "method": r.method, "url": url_for(api_url, r.path)}
                       for r in matrix.routes]}


def web_port(model: StackModel) -> int:
    """The port the app is served on: its callback URL's."""
    return urlsplit(callback_of(model)[2]).port


def resolve(root: Path, path: str) -> Path | None:
    """The file ``path`` names under ``root``, or ``None``; never a file outside ``root``."""
    relative = unquote(path).lstrip("/")
    if "\x00" in relative:
        return None
    candidate = (root / relative).resolve() if relative else root / INDEX
    try:
        candidate.relative_to(root)
    except ValueError:
        return None
    if candidate.is_file():
        return candidate
    if "." not in Path(relative).name:  # an app route such as /callback
        return root / INDEX if (root / INDEX).is_file() else None
    return None


class WebApp:
    """ASGI: the app's files and ``config.json``. GET and HEAD only."""

    def __init__(self, root: Path, config: Mapping[str, Any]):
        self.root = Path(root).resolve()
        self.config = json.dumps(config, indent=2).encode("utf-8")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] not in ("GET", "HEAD"):
            return await _send(send, 405, "text/plain", b"method not allowed\n", scope)
        if scope["path"] == CONFIG_PATH:
            return await _send(send, 200, "application/json", self.config, scope)
        found = resolve(self.root, scope["path"])
        if found is None:
            return await _send(send, 404, "text/plain", b"not found\n", scope)
        kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        await _send(send, 200, kind, found.read_bytes(), scope)


async def _send(send, status: int, kind: str, body: bytes, scope) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", kind.encode()), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
