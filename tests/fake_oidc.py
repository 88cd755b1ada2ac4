"""A small, real OpenID Connect provider on 127.0.0.1 for end-to-end login tests.

It serves discovery, JWKS, an authorisation endpoint that approves the person the test chose without
any user interface, and a token endpoint that checks the client, the redirect URI, single use of the
code and the PKCE verifier before it returns an RS256-signed ID token. ``misbehave`` makes it send a
faulty ID token (wrong nonce, audience or issuer, expired, bad signature) or an error response, as
a broken or hostile provider would.
"""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

SUBSTANTIAL = "https://data.gov.dk/concept/core/nsis/loa/Substantial"
HIGH = "https://data.gov.dk/concept/core/nsis/loa/High"
LOW = "https://data.gov.dk/concept/core/nsis/loa/Low"
CPR_CLAIM = "dk:gov:saml:attribute:CprNumberIdentifier"

Misbehaviour = Literal["nonce", "aud", "iss", "expired", "signature", "error"]


@dataclass
class FakePerson:
    """The person the provider approves at the next authorisation request."""

    sub: str
    name: str = ""
    acr: str = SUBSTANTIAL
    cpr: str | None = None
    preferred_username: str | None = None

    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": self.sub, "acr": self.acr}
        if self.name:
            claims["name"] = self.name
        if self.cpr is not None:
            claims[CPR_CLAIM] = self.cpr
        if self.preferred_username is not None:
            claims["preferred_username"] = self.preferred_username
        return claims


@dataclass
class FakeClient:
    client_id: str
    client_secret: str
    redirect_uris: set[str]


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    nonce: str
    code_challenge: str
    claims: dict[str, Any]


@dataclass
class AuthorizationRecord:
    """What the relying party sent to /authorize, for the test to inspect."""

    query: dict[str, str]


@dataclass
class TokenRecord:
    """What the relying party sent to /token, and the answer's status."""

    form: dict[str, str]
    status: int = 0


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"})


@dataclass
class FakeOidcProvider:
    """An OIDC provider running in a thread; ``start()``/``stop()`` or use ``running_provider()``."""

    clients: dict[str, FakeClient] = field(default_factory=dict)
    next_person: FakePerson | None = None
    misbehave: set[Misbehaviour] = field(default_factory=set)
    # Answer /authorize with a page whose link the person follows (as on a real provider, where the way
    # back is a navigation the provider's site starts) instead of redirecting at once.
    asks_for_approval: bool = False
    authorizations: list[AuthorizationRecord] = field(default_factory=list)
    token_requests: list[TokenRecord] = field(default_factory=list)
    jwks_fetches: int = 0
    _key: RSAKey = field(default_factory=_new_key)
    _grants: dict[str, Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _port: int = 0

    # --- life cycle ------------------------------------------------------------------------------

    def start(self) -> "FakeOidcProvider":
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider._handle(self, "GET")

            def do_POST(self) -> None:
                provider._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-oidc", daemon=True
        )
        self._thread.start()
        self._port = int(self._server.server_address[1])
        return self

    def stop(self) -> None:
        """Shut the server down and close its socket: afterwards the issuer is unreachable."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def port(self) -> int:
        assert self._port, "start() the provider first"
        return self._port

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- configuration by the test ---------------------------------------------------------------

    def register_client(self, client_id: str, client_secret: str, redirect_uri: str) -> FakeClient:
        client = FakeClient(client_id, client_secret, {redirect_uri})
        self.clients[client_id] = client
        return client

    def rotate_key(self) -> str:
        """Switch to a new signing key; the old one disappears from the JWKS. Returns the new key id."""
        with self._lock:
            self._key = _new_key()
            return str(self._key.kid)

    @property
    def key_id(self) -> str:
        return str(self._key.kid)

    # --- HTTP ------------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        routes = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", "/jwks"): self._jwks,
            ("GET", "/authorize"): self._authorize,
            ("POST", "/token"): self._token,
        }
        route = routes.get((method, url.path))
        if route is None:
            self._send_json(handler, 404, {"error": "not_found"})
            return
        route(handler, url.query)

    def _send_json(self, handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        handler.wfile.write(payload)

    def _discovery(self, handler: BaseHTTPRequestHandler, query: str) -> None:
        self._send_json(
            handler,
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "acr_values_supported": [LOW, SUBSTANTIAL, HIGH],
            },
        )

    def _jwks(self, handler: BaseHTTPRequestHandler, query: str) -> None:
        with self._lock:
            self.jwks_fetches += 1
            public = self._key.as_dict(private=False)
        self._send_json(handler, 200, {"keys": [public]})

    def _authorize(self, handler: BaseHTTPRequestHandler, query: str) -> None:
        params = {name: values[0] for name, values in parse_qs(query).items()}
        self.authorizations.append(AuthorizationRecord(params))
        client = self.clients.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if client is None or redirect_uri not in client.redirect_uris:
            # Never redirect to an unverified URI: answer the browser directly.
            self._send_json(handler, 400, {"error": "invalid_request", "error_description": "client or redirect"})
            return
        problems = []
        if params.get("response_type") != "code":
            problems.append("response_type")
        if "openid" not in params.get("scope", "").split():
            problems.append("scope")
        if params.get("code_challenge_method") != "S256" or len(params.get("code_challenge", "")) != 43:
            problems.append("code_challenge")
        if not params.get("nonce"):
            problems.append("nonce")
        if self.next_person is None:
            problems.append("no person configured")
        answer: dict[str, str]
        if problems:
            answer = {"error": "invalid_request", "error_description": ", ".join(problems)}
        else:
            assert self.next_person is not None
            code = secrets.token_urlsafe(24)
            with self._lock:
                self._grants[code] = Grant(
                    client_id=client.client_id,
                    redirect_uri=redirect_uri,
                    nonce=params["nonce"],
                    code_challenge=params["code_challenge"],
                    claims=self.next_person.claims(),
                )
            answer = {"code": code}
        if "state" in params:
            answer["state"] = params["state"]
        separator = "&" if "?" in redirect_uri else "?"
        back = f"{redirect_uri}{separator}{urlencode(answer)}"
        if self.asks_for_approval:
            page = f'<!doctype html><html lang="da"><title>MitID</title><a href="{escape(back)}">Godkend</a></html>'
            body = page.encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        handler.send_response(302)
        handler.send_header("Location", back)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _token(self, handler: BaseHTTPRequestHandler, query: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode()
        form = {name: values[0] for name, values in parse_qs(body).items()}
        record = TokenRecord(form)
        self.token_requests.append(record)
        status, answer = self._token_answer(form)
        record.status = status
        self._send_json(handler, status, answer)

    def _token_answer(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        client = self.clients.get(form.get("client_id", ""))
        if client is None or not hmac.compare_digest(form.get("client_secret", ""), client.client_secret):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if grant is None or grant.client_id != client.client_id:
            return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
        if not hmac.compare_digest(s256(form.get("code_verifier", "")), grant.code_challenge):
            return 400, {"error": "invalid_grant", "error_description": "code_verifier"}
        if "error" in self.misbehave:
            return 400, {"error": "access_denied", "error_description": "the provider refused"}
        return 200, {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self._id_token(client, grant),
        }

    def _id_token(self, client: FakeClient, grant: Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            **grant.claims,
            "iss": self.issuer,
            "aud": client.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            "auth_time": now,
        }
        if "nonce" in self.misbehave:
            claims["nonce"] = "not-the-nonce-that-was-sent"
        if "aud" in self.misbehave:
            claims["aud"] = "some-other-client"
        if "iss" in self.misbehave:
            claims["iss"] = "http://127.0.0.1:1/impostor"
        if "expired" in self.misbehave:
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        with self._lock:
            key = self._key
        header = {"alg": "RS256", "kid": key.kid}
        if "signature" in self.misbehave:
            # Signed by a key the provider never published, under the published key's id.
            return jwt.encode(header, claims, _new_key())
        return jwt.encode(header, claims, key)


@contextmanager
def running_provider() -> Iterator[FakeOidcProvider]:
    provider = FakeOidcProvider().start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def fake_oidc() -> Iterator[FakeOidcProvider]:
    with running_provider() as provider:
        yield provider
