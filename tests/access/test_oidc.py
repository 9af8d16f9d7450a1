"""The provider side of `legato.access.oidc` on its own: key-set caching and the settings' checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from joserfc.jwk import RSAKey

from legato.access.oidc import OidcProvider, OidcSettings, looks_like_jwt
from legato.errors import InvalidInput, JwtInvalid
from legato.settings import Settings
from legato.testing.identity_provider import FakeIdentityProvider


@pytest.fixture
def idp() -> Iterator[FakeIdentityProvider]:
    provider = FakeIdentityProvider()
    with provider.serve():
        yield provider


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def provider_for(idp: FakeIdentityProvider, ticks: Ticks, **settings: object) -> OidcProvider:
    return OidcProvider(
        OidcSettings(issuer=idp.issuer, client_id=idp.client_id, audiences=(idp.audience,), **settings),  # type: ignore[arg-type]
        monotonic=ticks,
    )


def test_unknown_kids_refetch_the_key_set_at_most_once_per_interval(idp: FakeIdentityProvider) -> None:
    import time

    ticks = Ticks()
    provider = provider_for(idp, ticks, jwks_min_refresh_seconds=30)
    provider.verify_bearer(idp.access_token(), now=time.time())
    assert provider.key_set_fetches == 1
    stranger = RSAKey.generate_key(2048, parameters={"kid": "never-published"})
    for _ in range(5):  # a stream of unknown kids within the interval: no flood against the provider
        with pytest.raises(JwtInvalid) as refused:
            provider.verify_bearer(idp.sign({"sub": "x"}, key=stranger), now=time.time())
        assert refused.value.reason == "unknown_key"
    assert provider.key_set_fetches == 1
    idp.rotate_key()
    with pytest.raises(JwtInvalid):  # rotated, but the interval since the last fetch has not passed
        provider.verify_bearer(idp.access_token(), now=time.time())
    ticks.value += 31
    claims = provider.verify_bearer(idp.access_token(sub="after-rotation"), now=time.time())
    assert claims["sub"] == "after-rotation"
    assert provider.key_set_fetches == 2
    provider.verify_bearer(idp.access_token(), now=time.time())  # known kid: from the cache
    assert provider.key_set_fetches == 2
    assert idp.requests["jwks"] == 2


def test_the_key_set_and_discovery_are_refetched_when_they_get_old(idp: FakeIdentityProvider) -> None:
    import time

    ticks = Ticks()
    provider = provider_for(idp, ticks, metadata_max_age_seconds=600)
    provider.verify_bearer(idp.access_token(), now=time.time())
    ticks.value += 601
    provider.verify_bearer(idp.access_token(), now=time.time())
    assert idp.requests["jwks"] == 2 and idp.requests["discovery"] == 2


def test_a_discovery_document_naming_another_issuer_is_refused(idp: FakeIdentityProvider) -> None:
    from legato.errors import OidcProviderUnavailable

    provider = OidcProvider(OidcSettings(issuer=idp.issuer + "/", client_id="legato"))
    with pytest.raises(OidcProviderUnavailable, match="names the issuer"):
        provider.metadata()


def test_settings_refuse_what_would_weaken_the_checks() -> None:
    with pytest.raises(InvalidInput, match="asymmetric"):
        OidcSettings(issuer="https://idp.example", client_id="c", algorithms=("RS256", "HS256"))
    with pytest.raises(InvalidInput, match="asymmetric"):
        OidcSettings(issuer="https://idp.example", client_id="c", algorithms=("none",))
    with pytest.raises(InvalidInput, match="https"):
        OidcSettings(issuer="http://idp.example", client_id="c")  # plain http only on loopback
    assert OidcSettings(issuer="http://127.0.0.1:9000/realm", client_id="c").scopes[0] == "openid"
    assert OidcSettings(issuer="https://idp.example", client_id="c", scopes=("email",)).scopes == ("openid", "email")


def test_the_settings_read_every_oidc_variable() -> None:
    settings = Settings.from_env(
        {
            "LEGATO_OIDC_ISSUER": "https://login.example.com/realms/acme",
            "LEGATO_OIDC_CLIENT_ID": "legato",
            "LEGATO_OIDC_CLIENT_SECRET": "s3cret",
            "LEGATO_OIDC_SCOPES": "openid profile email groups",
            "LEGATO_OIDC_REDIRECT_URL": "https://legato.example.com/api/v1/auth/oidc/callback",
            "LEGATO_OIDC_USERNAME_CLAIM": "email",
            "LEGATO_OIDC_GROUPS_CLAIM": "roles",
            "LEGATO_OIDC_GROUP_MAP": "/acme/ops=Operators, 0b5f-guid=modelers,a=b=c",
            "LEGATO_OIDC_DISPLAY_NAME": "Acme login",
            "LEGATO_OIDC_AUDIENCE": "legato-api, api://legato",
            "LEGATO_OIDC_ALGORITHMS": "RS256,ES256",
        }
    )
    oidc = settings.oidc()
    assert oidc is not None
    assert oidc.group_map == {"/acme/ops": "operators", "0b5f-guid": "modelers", "a=b": "c"}
    assert oidc.scopes == ("openid", "profile", "email", "groups")
    assert oidc.accepted_audiences == ("legato-api", "api://legato")
    assert oidc.algorithms == ("RS256", "ES256")
    assert (oidc.username_claim, oidc.groups_claim, oidc.display_name) == ("email", "roles", "Acme login")
    assert Settings.from_env({}).oidc() is None
    with pytest.raises(InvalidInput, match="LEGATO_OIDC_CLIENT_ID"):
        Settings.from_env({"LEGATO_OIDC_ISSUER": "https://idp.example"}).oidc()
    with pytest.raises(InvalidInput, match="LEGATO_OIDC_GROUP_MAP"):
        Settings.from_env({"LEGATO_OIDC_GROUP_MAP": "no-equals-sign"})
    with pytest.raises(InvalidInput, match="LEGATO_OIDC_ALGORITHMS"):
        Settings.from_env(
            {"LEGATO_OIDC_ISSUER": "https://i.example", "LEGATO_OIDC_CLIENT_ID": "c", "LEGATO_OIDC_ALGORITHMS": "HS256"}
        ).oidc()


def test_tokens_are_told_apart_by_shape() -> None:
    assert looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
    assert not looks_like_jwt("lgt_0123456789abcdef_secret")
    assert not looks_like_jwt("eyJ.only-two-parts")
