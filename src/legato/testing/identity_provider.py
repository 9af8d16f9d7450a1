"""A small OpenID Connect provider for tests, served over real HTTP on a loopback port.

    with FakeIdentityProvider().serve() as idp:
        idp.login_as("u-1", preferred_username="alice", groups=["engineers"])
        settings = OidcSettings(issuer=idp.issuer, client_id=idp.client_id, client_secret=idp.client_secret)
        ...                                        # a browser (httpx) follows the redirects
        token = idp.access_token(sub="svc-1")     # a bearer JWT for a program

It is the other side of `legato.access.oidc`, written independently of it: discovery,
a JWKS with its own RSA keys (`rotate_key` replaces them, as a provider's rotation does),
an authorization endpoint that logs in whoever `login_as` named (no login form: the
person is taken as already signed in at the provider), and a token endpoint that checks
the client, the redirect URI and the PKCE verifier (RFC 7636, S256) and takes each code
once. Knobs make it misbehave the ways real providers and attackers do: `id_token_claims`
laid over the next ID tokens (a wrong nonce, an expired `exp`), `down` (every endpoint
answers 503), `deny` (the login ends with `error=access_denied`). `requests` counts what
was asked of it, so tests can see a key set refetched or not.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


class FakeIdentityProvider:
    """An OpenID provider with one client, one signed-in person at a time, and RSA keys of its own."""

    def __init__(
        self,
        *,
        client_id: str = "legato",
        client_secret: str | None = "provider-secret",
        audience: str = "legato-api",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.audience = audience  # what access tokens for programs name in `aud`
        self.issuer = ""  # set by serve()
        self.keys = [self._new_key()]
        self.person: dict[str, Any] = {"sub": "subject-1", "preferred_username": "alice"}
        self.id_token_claims: dict[str, Any] = {}
        self.down = False
        self.deny = False
        self.requests: Counter[str] = Counter()
        self._codes: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    # -- what tests do ---------------------------------------------------------------------

    def login_as(self, subject: str, **claims: Any) -> None:
        """The person the next authorization request logs in (their claims go into the ID token)."""
        self.person = {"sub": subject, **claims}

    def rotate_key(self) -> str:
        """A new signing key replaces the old one in the JWKS; its kid is returned."""
        self.keys = [self._new_key()]
        return str(self.keys[0].kid)

    def sign(self, claims: dict[str, Any], *, algorithm: str = "RS256", key: RSAKey | None = None) -> str:
        signing = key or self.keys[0]
        return jwt.encode({"alg": algorithm, "kid": signing.kid, "typ": "JWT"}, claims, signing)

    def access_token(self, *, lifetime: float = 300, **claims: Any) -> str:
        """A signed access token for a program (client credentials), with sensible defaults."""
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "sub": "service-1",
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + int(lifetime),
            **claims,
        }
        return self.sign(body)

    @contextmanager
    def serve(self) -> Iterator[FakeIdentityProvider]:
        """Serve on 127.0.0.1 on a free port for the block's duration."""
        with serve_on_loopback(self.app()) as url:
            self.issuer = f"{url}/realms/test"
            yield self

    # -- the provider ----------------------------------------------------------------------

    def app(self) -> Starlette:
        prefix = "/realms/test"
        return Starlette(
            routes=[
                Route(f"{prefix}/.well-known/openid-configuration", self._discovery),
                Route(f"{prefix}/jwks", self._jwks),
                Route(f"{prefix}/authorize", self._authorize),
                Route(f"{prefix}/token", self._token, methods=["POST"]),
            ]
        )

    def _unavailable(self, name: str) -> Response | None:
        self.requests[name] += 1
        return Response("down for maintenance", status_code=503) if self.down else None

    async def _discovery(self, _request: Request) -> Response:
        if (down := self._unavailable("discovery")) is not None:
            return down
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            }
        )

    async def _jwks(self, _request: Request) -> Response:
        if (down := self._unavailable("jwks")) is not None:
            return down
        return JSONResponse(
            {"keys": [{**key.as_dict(private=False), "use": "sig", "alg": "RS256"} for key in self.keys]}
        )

    async def _authorize(self, request: Request) -> Response:
        if (down := self._unavailable("authorize")) is not None:
            return down
        query = request.query_params
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect_uri.startswith(("http://", "https://")):
            return JSONResponse({"error": "invalid_request", "error_description": "unknown client"}, status_code=400)
        state = query.get("state", "")
        if self.deny:
            return RedirectResponse(f"{redirect_uri}?{urlencode({'error': 'access_denied', 'state': state})}", 302)
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return _redirect_error(redirect_uri, state, "invalid_request")
        if "openid" not in query.get("scope", "").split() or not query.get("code_challenge"):
            return _redirect_error(redirect_uri, state, "invalid_request")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {
                "redirect_uri": redirect_uri,
                "challenge": query["code_challenge"],
                "nonce": query.get("nonce"),
                "person": dict(self.person),
            }
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302)

    async def _token(self, request: Request) -> Response:
        if (down := self._unavailable("token")) is not None:
            return down
        form = await request.form()
        client_id, client_secret = _client_credentials(request, form)
        if client_id != self.client_id or (self.client_secret is not None and client_secret != self.client_secret):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        with self._lock:
            grant = self._codes.pop(str(form.get("code", "")), None)  # a code works once
        if grant is None:
            return JSONResponse({"error": "invalid_grant", "error_description": "unknown or used code"}, 400)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "redirect_uri differs"}, 400)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not verifier or challenge != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE verification failed"}, 400)
        now = int(time.time())
        access_token = self.access_token(sub=grant["person"]["sub"], aud=self.audience)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            **grant["person"],
        }
        if grant["nonce"] is not None:
            claims["nonce"] = grant["nonce"]
        claims.update(self.id_token_claims)
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self.sign(claims),
            }
        )

    @staticmethod
    def _new_key() -> RSAKey:
        return RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(6)})


@contextmanager
def serve_on_loopback(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn on 127.0.0.1 on a free port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _client_credentials(request: Request, form: Any) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        from urllib.parse import unquote

        decoded = base64.b64decode(header[6:]).decode()
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    client_id = form.get("client_id")
    secret = form.get("client_secret")
    return (None if client_id is None else str(client_id)), (None if secret is None else str(secret))


def _redirect_error(redirect_uri: str, state: str, error: str) -> Response:
    return RedirectResponse(f"{redirect_uri}?{urlencode({'error': error, 'state': state})}", status_code=302)


def unsigned_token(claims: dict[str, Any]) -> str:
    """A JWT with `alg: none` (RFC 7519, 6.1): what an attacker sends hoping nobody checks."""

    def part(value: dict[str, Any]) -> str:
        import json

        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
