"""OpenID Connect: an external identity provider's discovery, keys, codes and tokens, verified.

Two ways in use this module. People log in through the browser with the authorization-code
flow (OpenID Connect Core 1.0, 3.1) with PKCE (RFC 7636, S256): `authorization_url` sends
them to the provider with a state, a nonce and a code challenge; `exchange_code` trades
the code and verifier for tokens; `verify_id_token` checks the ID token (3.1.3.7: the
signature against the provider's JWKS, `iss`, `aud`, `azp`, `exp`, `iat`, the nonce).
Programs send the provider's access tokens as `Authorization: Bearer <JWT>` (RFC 9068
style), checked by `verify_bearer` (signature, `iss`, `aud`, `exp`, `nbf`).

Authlib supplies the protocol pieces (the authorization request, the token request, the
PKCE challenge and OpenID's ID-token claim rules); joserfc, Authlib's own JOSE library,
verifies signatures. Only asymmetric algorithms are accepted and never `none`: a key set
is public, so an HMAC "signed" with a public key proves nothing.

The provider's metadata (`/.well-known/openid-configuration`, whose `issuer` must equal
the configured one, OpenID Connect Discovery 1.0, 4.3) and its key set are fetched on first
use and cached. A token whose `kid` is unknown triggers a refetch of the key set (a key
rotation), but at most once per `jwks_min_refresh_seconds`, so a stream of forged `kid`s
cannot turn the server into a flood against the provider. What the provider answers is
fetched over HTTP with timeouts; when it cannot be reached the error is
OIDC_PROVIDER_UNAVAILABLE (502), never a 500.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from legato.errors import IdTokenInvalid, InvalidInput, JwtInvalid, OidcCodeRejected, OidcProviderUnavailable

ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
HTTP_TIMEOUT = httpx.Timeout(10.0)
MAX_JWT = 16 * 1024  # a header that size is an attack, not a token
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True, kw_only=True, slots=True)
class OidcSettings:
    """One identity provider, as the LEGATO_OIDC_* settings describe it (docs/security.md)."""

    issuer: str
    client_id: str
    client_secret: str | None = None  # None: a public client (PKCE alone proves the code's owner)
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    redirect_url: str | None = None  # None: this server's own .../auth/oidc/callback
    groups_claim: str = "groups"
    group_map: Mapping[str, str] = field(default_factory=dict)  # provider group -> Legato group
    username_claim: str = "preferred_username"
    display_name: str = "Single sign-on"
    audiences: tuple[str, ...] = ()  # what bearer JWTs must be for; empty: the client id
    algorithms: tuple[str, ...] = ASYMMETRIC_ALGORITHMS
    leeway_seconds: int = 60  # clock skew tolerated on exp, nbf, iat
    jwks_min_refresh_seconds: float = 30.0
    metadata_max_age_seconds: float = 3600.0  # discovery and keys are refetched this often anyway
    login_seconds: float = 600.0  # how long a started login may take to come back

    def __post_init__(self) -> None:
        check_issuer(self.issuer)
        if not self.client_id:
            raise InvalidInput("single sign-on needs a client id", details={"variable": "LEGATO_OIDC_CLIENT_ID"})
        bad = [a for a in self.algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if bad or not self.algorithms:
            raise InvalidInput(
                f"LEGATO_OIDC_ALGORITHMS: only asymmetric signature algorithms are accepted "
                f"({', '.join(ASYMMETRIC_ALGORITHMS)}), not {bad}",
                details={"variable": "LEGATO_OIDC_ALGORITHMS"},
            )
        if "openid" not in self.scopes:
            object.__setattr__(self, "scopes", ("openid", *self.scopes))

    @property
    def accepted_audiences(self) -> tuple[str, ...]:
        return self.audiences or (self.client_id,)


def check_issuer(issuer: str) -> str:
    """An issuer is an https URL (RFC 8414, 2); plain http only on loopback, for tests and development."""
    parts = urlsplit(issuer)
    secure = parts.scheme == "https" or (parts.scheme == "http" and (parts.hostname or "") in LOOPBACK)
    if not secure or not parts.hostname or parts.query or parts.fragment:
        raise InvalidInput(
            f"LEGATO_OIDC_ISSUER must be an https:// URL without query or fragment, not {issuer!r}",
            details={"variable": "LEGATO_OIDC_ISSUER"},
        )
    return issuer


@dataclass(frozen=True, kw_only=True, slots=True)
class VerifiedToken:
    claims: dict[str, Any]
    header: dict[str, Any]


class OidcProvider:
    """One provider: its metadata and keys (cached), and every check on what it issues."""

    def __init__(
        self,
        settings: OidcSettings,
        *,
        http: httpx.Client | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._http = http or httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self.key_set_fetches = 0  # how often the key set was fetched (metrics and tests)

    # -- discovery and keys ----------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, checked and cached."""
        with self._lock:
            if self._metadata is None or self._monotonic() - self._metadata_at > self.settings.metadata_max_age_seconds:
                url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
                document = self._get_json(url)
                if document.get("issuer") != self.settings.issuer:
                    raise OidcProviderUnavailable(
                        f"the provider's discovery document names the issuer {document.get('issuer')!r}, "
                        f"not the configured {self.settings.issuer!r}",
                        details={"url": url},
                    )
                for required in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(document.get(required), str):
                        raise OidcProviderUnavailable(
                            f"the provider's discovery document lacks {required}", details={"url": url}
                        )
                methods = document.get("code_challenge_methods_supported")
                if isinstance(methods, list) and "S256" not in methods:
                    raise OidcProviderUnavailable("the provider does not support PKCE with S256", details={"url": url})
                self._metadata, self._metadata_at = document, self._monotonic()
            return self._metadata

    def _key_for(self, kid: str | None) -> Any:
        """The provider's key with `kid`, refetching the key set once for an unknown one."""
        keys = self._key_set(force=False)
        key = _find(keys, kid)
        if key is None and self._may_refresh():
            key = _find(self._key_set(force=True), kid)
        if key is None:
            return None
        return key

    def _may_refresh(self) -> bool:
        return self._monotonic() - self._keys_at >= self.settings.jwks_min_refresh_seconds

    def _key_set(self, *, force: bool) -> KeySet:
        metadata = self.metadata()
        with self._lock:
            stale = self._monotonic() - self._keys_at > self.settings.metadata_max_age_seconds
            if self._keys is None or stale or (force and self._may_refresh()):
                document = self._get_json(metadata["jwks_uri"])
                try:
                    keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
                except (JoseError, ValueError, TypeError, KeyError) as error:
                    raise OidcProviderUnavailable(
                        f"the provider's key set does not parse: {error}", details={"url": metadata["jwks_uri"]}
                    ) from None
                self._keys, self._keys_at = keys, self._monotonic()
                self.key_set_fetches += 1
            assert self._keys is not None
            return self._keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise OidcProviderUnavailable(
                f"the identity provider cannot be reached: {type(error).__name__}", details={"url": url}
            ) from None
        if response.status_code != 200:
            raise OidcProviderUnavailable(
                f"the identity provider answered {response.status_code}", details={"url": url}
            )
        try:
            document = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise OidcProviderUnavailable(
                "the identity provider answered something not JSON", details={"url": url}
            ) from None
        if not isinstance(document, dict):
            raise OidcProviderUnavailable(
                "the identity provider answered JSON that is not an object", details={"url": url}
            )
        return document

    # -- the browser flow ------------------------------------------------------------------

    def authorization_url(self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str) -> str:
        """Where to send the browser: the provider's login, with state, nonce and the S256 challenge."""
        uri: str = prepare_grant_uri(
            self.metadata()["authorization_endpoint"],
            client_id=self.settings.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=" ".join(self.settings.scopes),
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
        )
        return uri

    def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        """The provider's token response for `code` (RFC 6749, 4.1.3), with the PKCE verifier."""
        metadata = self.metadata()
        settings = self.settings
        params: dict[str, Any] = {"code": code, "redirect_uri": redirect_uri, "code_verifier": code_verifier}
        auth: httpx.Auth | None = None
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if settings.client_secret is None:
            params["client_id"] = settings.client_id
        elif "client_secret_basic" in methods or "client_secret_post" not in methods:
            # RFC 6749, 2.3.1: both are form-encoded before they go into the Basic header.
            auth = httpx.BasicAuth(quote(settings.client_id, safe=""), quote(settings.client_secret, safe=""))
        else:
            params.update(client_id=settings.client_id, client_secret=settings.client_secret)
        body = prepare_token_request("authorization_code", **params)
        url = metadata["token_endpoint"]
        try:
            response = self._http.post(
                url,
                content=body,
                auth=auth or httpx.USE_CLIENT_DEFAULT,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            )
        except httpx.HTTPError as error:
            raise OidcProviderUnavailable(
                f"the identity provider cannot be reached: {type(error).__name__}", details={"url": url}
            ) from None
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            answer = None
        if response.status_code in (400, 401) and isinstance(answer, dict) and "error" in answer:
            # RFC 6749, 5.2: invalid_grant is a used, expired or foreign code, or a wrong PKCE verifier.
            description = str(answer.get("error_description") or "")[:300]
            raise OidcCodeRejected(
                f"the identity provider refused the code: {answer['error']}"
                + (f" ({description})" if description else ""),
                details={"error": str(answer["error"])[:100]},
            )
        if response.status_code != 200 or not isinstance(answer, dict):
            raise OidcProviderUnavailable(
                f"the identity provider's token endpoint answered {response.status_code}", details={"url": url}
            )
        if not isinstance(answer.get("id_token"), str):
            raise IdTokenInvalid(
                "the provider's token response has no ID token (is `openid` a scope?)", reason="missing"
            )
        return answer

    def verify_id_token(
        self, id_token: str, *, nonce: str, now: float, access_token: str | None = None
    ) -> dict[str, Any]:
        """The claims of a verified ID token (OpenID Connect Core 1.0, 3.1.3.7), or IdTokenInvalid."""
        try:
            verified = self._verify_signature(id_token)
        except JwtInvalid as error:
            raise IdTokenInvalid(f"the ID token: {error.message}", reason=error.reason) from None
        params: dict[str, Any] = {"nonce": nonce, "client_id": self.settings.client_id}
        if access_token:
            params["access_token"] = access_token
        claims = CodeIDToken(
            verified.claims,
            verified.header,
            {
                "iss": {"essential": True, "value": self.metadata()["issuer"]},
                "aud": {"essential": True, "value": self.settings.client_id},
            },
            params,
        )
        try:
            claims.validate(now=int(now), leeway=self.settings.leeway_seconds)
        except ClaimError as error:
            raise IdTokenInvalid(f"the ID token: {_claim_problem(error)}", reason=_claim_reason(error)) from None
        if not isinstance(verified.claims.get("nonce"), str):  # we always send one, so it must come back
            raise IdTokenInvalid("the ID token carries no nonce", reason="nonce")
        return verified.claims

    # -- bearer tokens for programs --------------------------------------------------------

    def verify_bearer(self, token: str, *, now: float) -> dict[str, Any]:
        """The claims of a bearer JWT: signature, `iss`, `aud`, `exp` (required) and `nbf`, or JwtInvalid."""
        verified = self._verify_signature(token)
        registry = JWTClaimsRegistry(
            now=int(now),
            leeway=self.settings.leeway_seconds,
            iss={"essential": True, "value": self.metadata()["issuer"]},
            aud={"essential": True, "values": list(self.settings.accepted_audiences)},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(verified.claims)
        except ClaimError as error:
            raise JwtInvalid(f"the bearer token: {_claim_problem(error)}", reason=_claim_reason(error)) from None
        return verified.claims

    def _verify_signature(self, token: str) -> VerifiedToken:
        header = jwt_header(token)
        algorithm = header.get("alg")
        if algorithm not in self.settings.algorithms:
            raise JwtInvalid(
                f"the signature algorithm {algorithm!r} is not accepted (only {', '.join(self.settings.algorithms)})",
                reason="algorithm",
            )
        kid = header.get("kid")
        key = self._key_for(kid if isinstance(kid, str) else None)
        if key is None:
            raise JwtInvalid(f"the provider has no key {kid!r}", reason="unknown_key")
        try:
            decoded = jwt.decode(token, key, algorithms=[algorithm])
        except BadSignatureError:
            raise JwtInvalid("the signature does not verify", reason="signature") from None
        except JoseError as error:
            raise JwtInvalid(f"the token does not decode: {error.error}", reason="malformed") from None
        return VerifiedToken(claims=dict(decoded.claims), header=dict(decoded.header))

    def close(self) -> None:
        self._http.close()


def looks_like_jwt(token: str) -> bool:
    """A compact JWS has three base64url parts, its header a JSON object (so it starts `eyJ`)."""
    return token.startswith("eyJ") and token.count(".") == 2


def jwt_header(token: str) -> dict[str, Any]:
    """The (unverified) header of a compact JWT, to pick the algorithm check and the key."""
    if len(token) > MAX_JWT or not looks_like_jwt(token):
        raise JwtInvalid("the bearer token is not a compact JWT", reason="malformed")
    segment = token.split(".", 1)[0]
    try:
        header = orjson.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise JwtInvalid("the token's header does not decode", reason="malformed") from None
    if not isinstance(header, dict):
        raise JwtInvalid("the token's header is not a JSON object", reason="malformed")
    return header


def _find(keys: KeySet, kid: str | None) -> Any:
    if kid is None:
        return keys.keys[0] if len(keys.keys) == 1 else None
    try:
        return keys.get_by_kid(kid)
    except (JoseError, ValueError, KeyError):
        return None


_REASONS = {"iss": "issuer", "aud": "audience", "nbf": "not_yet_valid", "iat": "issued_in_future", "nonce": "nonce"}


def _claim_reason(error: ClaimError) -> str:
    if isinstance(error, ExpiredTokenError):
        return "expired"
    if isinstance(error, MissingClaimError):
        return "missing_claim"
    if isinstance(error, InvalidClaimError):
        return _REASONS.get(error.claim, f"claim_{error.claim}")
    return "claims"


def _claim_problem(error: ClaimError) -> str:
    if isinstance(error, ExpiredTokenError):
        return "it has expired"
    return str(error.description)
