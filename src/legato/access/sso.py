"""Single sign-on: from what an identity provider says about someone to a Legato user and principal.

The provider vouches for a person (`legato.access.oidc` checks that it did); this module
decides what that means here:

- **Who.** The user name is the claim LEGATO_OIDC_USERNAME_CLAIM (`preferred_username` by
  default, else `sub`), lower-cased like every Legato name. The first login creates the
  user without a password and links it to the provider's `(iss, sub)` in its attributes
  (`oidc`); later logins find it by name and must match that link. A local user who
  happens to have the same name is never taken over: OIDC_ACCOUNT_CONFLICT, until an
  admin links it on purpose (`PATCH /users/{name}` with the `oidc` attribute). A disabled
  user is refused (USER_DISABLED) whatever the provider says.
- **Groups.** LEGATO_OIDC_GROUP_MAP names which provider groups mean which Legato groups.
  Only mapped groups are synchronised: at each login the user joins the mapped groups its
  groups claim names and leaves the mapped groups it no longer names; memberships an
  admin gave by hand in unmapped groups stay, and unmapped provider groups are ignored.
- **Programs.** A bearer JWT acts with the grants of the mapped groups in its claim, plus
  those of its linked user if it has one (nothing is written on a bearer request). An
  unlinked subject is named `jwt:<name>`, so it is never mistaken for a local user.

A login in flight is a row of `oidc_logins` keyed by the SHA-256 of a random state and
bound to the browser by a second random secret in a cookie; the callback takes the row
(once) and checks both, so a forged, replayed or foreign callback fails with
OIDC_STATE_INVALID before anything is asked of the provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from legato.access.authenticator import Authenticator, NewSession
from legato.access.oidc import OidcProvider
from legato.access.principal import Principal
from legato.access.secrets import digest, new_secret, same
from legato.errors import (
    IdTokenInvalid,
    InvalidInput,
    JwtInvalid,
    OidcAccountConflict,
    OidcLoginDenied,
    OidcStateInvalid,
    UserDisabled,
)
from legato.store.identity import SignOnLogins, StoredLogin, StoredUser, normalize_name

LINK_ATTRIBUTE = "oidc"
MAX_RETURN_TO = 2000


@dataclass(frozen=True, kw_only=True, slots=True)
class StartedLogin:
    redirect_to: str  # the provider's authorization URL
    browser_secret: str  # the `legato_oidc` cookie's value


class SingleSignOn:
    """The provider's word turned into users, memberships, sessions and principals."""

    def __init__(self, authenticator: Authenticator, provider: OidcProvider) -> None:
        self.authenticator = authenticator
        self.provider = provider
        self.settings = provider.settings
        self.logins = SignOnLogins(authenticator.store.database)

    # -- claims ----------------------------------------------------------------------------

    def username_of(self, claims: Mapping[str, Any]) -> str:
        value = claims.get(self.settings.username_claim)
        if not isinstance(value, str) or not value.strip():
            value = claims.get("sub")
        if not isinstance(value, str):
            raise InvalidInput(f"the token names nobody: no {self.settings.username_claim!r} and no 'sub' claim")
        return normalize_name("user", value)

    def mapped_groups(self, claims: Mapping[str, Any]) -> frozenset[str]:
        """The Legato groups the provider's groups claim maps to; unmapped provider groups are ignored."""
        raw = claims.get(self.settings.groups_claim)
        names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        return frozenset(
            self.settings.group_map[n] for n in names if isinstance(n, str) and n in self.settings.group_map
        )

    def link_of(self, claims: Mapping[str, Any]) -> dict[str, str]:
        return {"issuer": str(claims["iss"]), "subject": str(claims["sub"])}

    def is_linked(self, user: StoredUser, claims: Mapping[str, Any]) -> bool:
        return user.attributes.get(LINK_ATTRIBUTE) == self.link_of(claims)

    # -- bearer JWTs -----------------------------------------------------------------------

    def principal_of_bearer(self, token: str) -> Principal:
        """The principal of a provider-issued bearer JWT, or JwtInvalid (401)."""
        claims = self.provider.verify_bearer(token, now=self.authenticator.now())
        try:
            username = self.username_of(claims)
        except InvalidInput as error:
            raise JwtInvalid(f"the bearer token: {error.message}", reason="username") from None
        directory = self.authenticator.directory
        mapped = self.mapped_groups(claims)
        user = directory.find_user(username)
        if user is not None and self.is_linked(user, claims):
            if user.disabled:
                raise JwtInvalid("the token's user is disabled", reason="user_disabled")
            # The claim decides the mapped groups now, not the memberships of the last login.
            kept = directory.direct_groups_of(user.id) - frozenset(self.settings.group_map.values())
            groups = directory.with_enclosing(kept | mapped)
            return self.authenticator.principal_for(user.id, kind="token", user_id=user.id, groups=groups)
        return self.authenticator.principal_for(
            f"jwt:{username}", kind="token", user_id=None, groups=directory.with_enclosing(mapped)
        )

    # -- the browser login -----------------------------------------------------------------

    def start_login(self, *, redirect_uri: str, return_to: str) -> StartedLogin:
        """Remember a new login (state, verifier, nonce) and say where to send the browser."""
        state, browser, verifier, nonce = new_secret(), new_secret(), new_secret(), new_secret()
        redirect_to = self.provider.authorization_url(
            redirect_uri=redirect_uri, state=state, nonce=nonce, code_verifier=verifier
        )
        now = self.authenticator.now()
        self.logins.put(
            StoredLogin(
                state_hash=digest(state),
                browser_hash=digest(browser),
                code_verifier=verifier,
                nonce=nonce,
                return_to=safe_return_to(return_to),
                created_at=now,
                expires_at=now + self.settings.login_seconds,
            )
        )
        return StartedLogin(redirect_to=redirect_to, browser_secret=browser)

    def finish_login(
        self,
        *,
        state: str | None,
        code: str | None,
        error: str | None,
        browser_secret: str | None,
        redirect_uri: str,
        source: str | None,
    ) -> tuple[NewSession, str]:
        """The callback: check the state, trade the code, verify the ID token, then the user and a session.

        Returns the new session and where in the app to send the browser. Every check comes
        before the first write, so a refused callback changes nothing.
        """
        if not state or len(state) > 200:
            raise OidcStateInvalid("the callback carries no state")
        login = self.logins.take(digest(state))
        now = self.authenticator.now()
        if login is None:
            raise OidcStateInvalid("the login's state is unknown or was used already: start the login again")
        if not browser_secret or not same(login.browser_hash, digest(browser_secret)):
            raise OidcStateInvalid("this login was started in another browser: start it again here")
        if login.expires_at <= now:
            raise OidcStateInvalid("the login took too long: start it again")
        if error:
            raise OidcLoginDenied(
                f"the identity provider ended the login: {error[:100]}", details={"error": error[:100]}
            )
        if not code or len(code) > 4096:
            raise OidcStateInvalid("the callback carries no code")
        answer = self.provider.exchange_code(code, redirect_uri=redirect_uri, code_verifier=login.code_verifier)
        access_token = answer.get("access_token")
        claims = self.provider.verify_id_token(
            answer["id_token"],
            nonce=login.nonce,
            now=now,
            access_token=access_token if isinstance(access_token, str) else None,
        )
        user = self._provision(claims)
        return self.authenticator.start_session(user, source=source), login.return_to

    def _provision(self, claims: Mapping[str, Any]) -> StoredUser:
        """The linked user, created on first login; its mapped memberships made what the claim says."""
        try:
            username = self.username_of(claims)
        except InvalidInput as error:
            raise IdTokenInvalid(f"the ID token: {error.message}", reason="username") from None
        directory = self.authenticator.directory
        now = self.authenticator.now()
        user = directory.find_user(username)
        if user is not None and not self.is_linked(user, claims):
            raise OidcAccountConflict(
                f"the user {username!r} exists and is not linked to this identity provider's subject: "
                "an admin links it by setting its `oidc` attribute",
                details={"user": username},
            )
        if user is not None and user.disabled:
            raise UserDisabled(f"the user {username!r} is disabled", details={"user": username})
        profile = {
            "display_name": _text(claims.get("name")),
            "email": _text(claims.get("email")),
        }
        if user is None:
            user = directory.create_user(
                username, password_hash=None, now=now, attributes={LINK_ATTRIBUTE: self.link_of(claims)}, **profile
            )
        else:
            changes = {k: v for k, v in profile.items() if v is not None and v != getattr(user, k)}
            if changes:
                user = directory.update_user(user.id, changes, now=now)
        self._sync_groups(user, self.mapped_groups(claims))
        return user

    def _sync_groups(self, user: StoredUser, wanted: frozenset[str]) -> None:
        directory = self.authenticator.directory
        managed = frozenset(self.settings.group_map.values())
        current = directory.direct_groups_of(user.id) & managed
        existing = {g["group"] for g in directory.groups()} if wanted - current else set()
        for group in sorted(wanted - current):
            if group not in existing:
                directory.create_group(group, now=self.authenticator.now())
            directory.add_member(group, "user", user.id)
        for group in sorted(current - wanted):
            directory.remove_member(group, "user", user.id)


def safe_return_to(value: str | None) -> str:
    """Where to go after the login: a path on this site only (an open redirect is a phishing tool)."""
    if not value or len(value) > MAX_RETURN_TO or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(c in value for c in "\r\n\t") or "\\" in value:
        return "/"
    return value


def _text(value: object) -> str | None:
    return value[:500] if isinstance(value, str) and value.strip() else None
