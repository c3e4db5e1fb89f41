"""Telling the identity provider to forget a deleted account's subject (product.md section 7).

The provider's admin API is configured by `IDENTITY_ADMIN_URL` and `IDENTITY_ADMIN_KEY`; the
call is `DELETE {IDENTITY_ADMIN_URL}/users/{subject}` with the key as a bearer token (the shape
most providers' management APIs share; put a small proxy in front of one that differs). A 2xx
or a 404 (the provider no longer knows the subject) means done; a 5xx, a 429 or a network error
is worth trying again (the Celery task retries with backoff); any other answer is a
configuration problem, logged and not retried. Unset: nobody is told (development).
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from relivchats.settings import Settings


class IdentityAdminUnavailable(Exception):
    """The provider could not be told now; try again later."""


class IdentityAdminRefused(Exception):
    """The provider refused the request (wrong key, wrong address): retrying will not help."""


class IdentityAdmin:
    def __init__(self, base_url: str, key: str, timeout_s: float):
        self._base_url = base_url.rstrip("/")
        self._key = key
        self._timeout_s = timeout_s

    def forget(self, subject: str) -> None:
        url = f"{self._base_url}/users/{quote(subject, safe='')}"
        try:
            response = httpx.delete(
                url, headers={"Authorization": f"Bearer {self._key}"}, timeout=self._timeout_s
            )
        except httpx.HTTPError as error:
            raise IdentityAdminUnavailable(f"identity provider unreachable: {error!r}") from None
        if response.is_success or response.status_code == 404:
            return
        if response.status_code == 429 or response.status_code >= 500:
            raise IdentityAdminUnavailable(f"identity provider answered {response.status_code}")
        raise IdentityAdminRefused(f"identity provider answered {response.status_code}")


def identity_admin_from(settings: Settings) -> IdentityAdmin | None:
    key = settings.identity_admin_key.get_secret_value() if settings.identity_admin_key else ""
    if not settings.identity_admin_url or not key:
        return None  # production refuses one without the other (relivchats/production.py)
    return IdentityAdmin(settings.identity_admin_url, key, settings.identity_admin_timeout_s)
