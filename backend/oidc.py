"""OpenID Connect relying party for citizen (MitID broker) and staff (municipal IdP) logins.

Authlib builds the authorisation request and exchanges the code with PKCE; joserfc verifies the ID
token's signature against the provider's published keys and its claims: ``iss``, ``aud``, ``exp``,
``nonce`` and, where the provider is configured with accepted levels, the assurance level ``acr``.
"""

import json
import logging
import time
from dataclasses import dataclass
from threading import Lock
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from backend.cpr import CprNumber, InvalidCpr
from backend.errors import ApplicationError, NotAuthenticated, ServiceUnavailable

logger = logging.getLogger(__name__)
METADATA_TTL_SECONDS = 3600
ID_TOKEN_ALGORITHMS = ["RS256", "PS256", "ES256"]
REQUIRED_METADATA = ("authorization_endpoint", "token_endpoint", "jwks_uri")


class ProviderNotConfigured(ApplicationError):
    status = 404
    code = "login_provider_not_configured"
    title = "This login is not configured on this installation."


@dataclass(frozen=True)
class VerifiedLogin:
    issuer: str
    subject: str
    acr: str
    name: str
    username: str
    cpr: CprNumber | None
    claims: dict[str, Any]


class Provider:
    def __init__(self, audience: str, config: dict[str, Any]) -> None:
        self.audience = audience
        self.config = config
        self.issuer: str = config["issuer"].rstrip("/")
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = Lock()

    @property
    def redirect_uri(self) -> str:
        base = settings.PUBLIC_BASE_URL.rstrip("/")
        return f"{base}/api/v1/auth/{self.audience}/callback"

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = requests.get(url, timeout=settings.OIDC_HTTP_TIMEOUT_SECONDS)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            logger.warning("identity provider unreachable: %s", type(exc).__name__)
            raise ServiceUnavailable("The identity provider cannot be reached.", code="idp_unavailable") from exc
        if not isinstance(data, dict):
            raise ServiceUnavailable("The identity provider answered unexpectedly.", code="idp_unavailable")
        return data

    def metadata(self, *, refresh: bool = False) -> dict[str, Any]:
        with self._lock:
            stale = time.monotonic() - self._fetched_at > METADATA_TTL_SECONDS
            if self._metadata is None or refresh or stale:
                metadata = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
                if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
                    raise ServiceUnavailable("The identity provider's issuer does not match.", code="idp_mismatch")
                if not all(isinstance(metadata.get(name), str) for name in REQUIRED_METADATA):
                    raise ServiceUnavailable("The identity provider's metadata is incomplete.", code="idp_mismatch")
                key_set = self._get_json(metadata["jwks_uri"])
                try:
                    keys = KeySet.import_key_set(key_set)  # type: ignore[arg-type]
                except (JoseError, ValueError, TypeError, KeyError) as exc:
                    raise ServiceUnavailable(
                        "The identity provider published unusable keys.", code="idp_mismatch"
                    ) from exc
                self._metadata, self._keys = metadata, keys
                self._fetched_at = time.monotonic()
            return self._metadata

    def keys(self, *, refresh: bool = False) -> KeySet:
        self.metadata(refresh=refresh)
        assert self._keys is not None
        return self._keys

    def _session(self) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.config["client_id"],
            client_secret=self.config.get("client_secret") or None,
            scope=self.config.get("scope") or "openid",
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_post" if self.config.get("client_secret") else "none",
        )

    def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        extra: dict[str, str] = {}
        if self.config.get("accepted_acr"):
            extra["acr_values"] = " ".join(self.config["accepted_acr"])
        url, _ = self._session().create_authorization_url(
            self.metadata()["authorization_endpoint"],
            state=state,
            nonce=nonce,
            code_verifier=code_verifier,
            **extra,
        )
        return str(url)

    def verify_callback(self, *, code: str, code_verifier: str, nonce: str) -> VerifiedLogin:
        token_endpoint = self.metadata()["token_endpoint"]
        try:
            token = self._session().fetch_token(
                token_endpoint,
                code=code,
                code_verifier=code_verifier,
                timeout=settings.OIDC_HTTP_TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            logger.warning("identity provider unreachable at the token endpoint: %s", type(exc).__name__)
            raise ServiceUnavailable("The identity provider cannot be reached.", code="idp_unavailable") from exc
        except Exception as exc:  # authlib raises OAuthError subclasses for error responses
            logger.info("code exchange refused by the identity provider: %s", type(exc).__name__)
            raise NotAuthenticated("The identity provider refused the login.", code="login_refused") from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise NotAuthenticated("The identity provider returned no ID token.", code="login_refused")
        claims = self._verified_claims(id_token, nonce=nonce)
        return self._login_from_claims(claims)

    def _verified_claims(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        try:
            decoded = self._decode(id_token, refresh=False)
        except JoseError:
            # An unknown key id: the provider may have rotated its keys since we fetched them.
            try:
                decoded = self._decode(id_token, refresh=True)
            except JoseError as exc:
                raise NotAuthenticated("The ID token signature is not valid.", code="invalid_id_token") from exc
        claims = decoded.claims
        registry = JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": str(self.metadata()["issuer"])},
            sub={"essential": True},
            aud={"essential": True, "value": self.config["client_id"]},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise NotAuthenticated(f"The ID token was rejected ({exc.error}).", code="invalid_id_token") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.config["client_id"]:
            # OpenID Connect Core 3.1.3.7: with several audiences we must be the authorised party.
            raise NotAuthenticated("The ID token was rejected (invalid_claim).", code="invalid_id_token")
        accepted = self.config.get("accepted_acr") or []
        if accepted and claims.get("acr") not in accepted:
            raise NotAuthenticated(
                "The login's assurance level is too low; NSIS Substantial or higher is required.",
                code="insufficient_assurance",
            )
        return claims

    def _decode(self, id_token: str, *, refresh: bool) -> jwt.Token:
        return jwt.decode(id_token, self.keys(refresh=refresh), algorithms=ID_TOKEN_ALGORITHMS)

    def _login_from_claims(self, claims: dict[str, Any]) -> VerifiedLogin:
        cpr_number = None
        raw_cpr = claims.get(self.config.get("cpr_claim", "")) if self.audience == "citizen" else None
        if isinstance(raw_cpr, str):
            try:
                cpr_number = CprNumber.parse(raw_cpr)
            except InvalidCpr:
                logger.warning("identity provider sent a malformed CPR claim")
        return VerifiedLogin(
            issuer=self.issuer,
            subject=str(claims["sub"]),
            acr=str(claims.get("acr", "")),
            name=str(claims.get(self.config.get("name_claim", "name"), "")),
            username=str(claims.get(self.config.get("username_claim", ""), "")),
            cpr=cpr_number,
            claims={key: value for key, value in claims.items() if key != self.config.get("cpr_claim")},
        )


_providers: dict[tuple[str, str], Provider] = {}
_providers_lock = Lock()


def provider(audience: str) -> Provider:
    """The relying party for an audience; its discovery document and keys are cached per configuration."""
    config = settings.OIDC_PROVIDERS.get(audience)
    if not config or not config.get("issuer") or not config.get("client_id"):
        raise ProviderNotConfigured()
    cache_key = (audience, json.dumps(config, sort_keys=True, default=str))
    with _providers_lock:
        if cache_key not in _providers:
            _providers[cache_key] = Provider(audience, dict(config))
        return _providers[cache_key]
