"""The staff pages' session: its cookies (HttpOnly, SameSite=Strict, Secure over https) and
the form token every state-changing staff form carries against cross-site request forgery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from ipaddress import IPv4Network, IPv6Network

from fastapi import Request, Response

from infra.ratelimit import is_trusted_proxy

TOKEN_COOKIE = "bs_staff_token"
ACCOUNT_COOKIE = "bs_staff_account"
# "reports" when booking refused the login's role (the `reporting` role): the pages then lead
# to the dashboard and hide the day view. Only what is shown; every API still checks the token.
ACCESS_COOKIE = "bs_staff_access"
# A random value given with the login form, before there is a staff token to tie its form to.
LOGIN_COOKIE = "bs_staff_login"
COOKIES = (TOKEN_COOKIE, ACCOUNT_COOKIE, ACCESS_COOKIE, LOGIN_COOKIE)
FORM_FIELD = "csrf_token"
_LABEL = b"borgerservice staff form:"


class ForgedForm(Exception):
    """A state-changing form posted without this session's form token, or from another site."""


def cookie_path(municipality: str) -> str:
    return f"/staff/{municipality}"


def over_https(request: Request, trusted: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    """The browser reached us over https: directly, or through a trusted proxy that says so
    (the X-Forwarded-Proto it set, the rightmost; anyone else's header is not believed)."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else ""
    if not is_trusted_proxy(peer, trusted):
        return False
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")
    return forwarded[-1].strip().lower() == "https"


def set_cookie(response: Response, name: str, value: str, municipality: str, https: bool) -> None:
    response.set_cookie(
        name,
        value,
        path=cookie_path(municipality),
        httponly=True,
        samesite="strict",  # no other site can post a staff form with it
        secure=https,
    )


def form_token(request: Request, secret: str | None = None) -> str:
    """The form token of this browser's staff session: an HMAC under its staff token (or,
    before login, its login cookie), so only a page of this session can know it and it
    reveals nothing of the token. "" when the browser has neither."""
    secret = secret or request.cookies.get(TOKEN_COOKIE) or request.cookies.get(LOGIN_COOKIE)
    if not secret:
        return ""
    municipality = str(request.path_params.get("municipality", "")).encode()
    digest = hmac.new(secret.encode(), _LABEL + municipality, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_login_secret() -> str:
    return secrets.token_urlsafe(32)


async def require_form_token(request: Request) -> None:
    """A dependency of the staff pages: a POST carries this session's form token, or the
    page answers 403 (nothing is done)."""
    if request.method != "POST":
        return
    expected = form_token(request)
    given = (await request.form()).get(FORM_FIELD)
    if not expected or not isinstance(given, str):
        raise ForgedForm()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ForgedForm()
