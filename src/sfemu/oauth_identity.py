"""The identity URL ``/id/{org}/{user}`` and OpenID Connect ``userinfo`` (reference 1.5).

Both take the access token as ``Authorization: Bearer`` (or an ``oauth_token`` /
``access_token`` parameter). A bad token gets what the identity service answers: ``403`` with
a plain-text code (``Missing_OAuth_Token``, ``Bad_OAuth_Token``, ``Wrong_Org``), and ``404``
``Bad_Id`` for an unknown user, ``Inactive`` for a deactivated one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from sfemu.model import ApiError, Record, format_datetime
from sfemu.oauth_directory import Directory, OrgView
from sfemu.oauth_token import JSON_TYPE, NO_STORE, base_url, identity_url
from sfemu.tokens import Session, TokenStore
from sfemu.versions import LATEST_API_VERSION

_VERSION = re.compile(r"^v?(\d{2,3}\.0)$")

#: ``urls`` of the identity response: name -> path under the base URL.
_URLS: Final = {
    "enterprise": "/services/Soap/c/{version}/{org}",
    "metadata": "/services/Soap/m/{version}/{org}",
    "partner": "/services/Soap/u/{version}/{org}",
    "rest": "/services/data/v{version}/",
    "sobjects": "/services/data/v{version}/sobjects/",
    "search": "/services/data/v{version}/search/",
    "query": "/services/data/v{version}/query/",
    "recent": "/services/data/v{version}/recent/",
    "tooling_soap": "/services/Soap/T/{version}/{org}",
    "tooling_rest": "/services/data/v{version}/tooling/",
    "profile": "/{user}",
    "feeds": "/services/data/v{version}/chatter/feeds",
    "groups": "/services/data/v{version}/chatter/groups",
    "users": "/services/data/v{version}/chatter/users",
    "feed_items": "/services/data/v{version}/chatter/feed-items",
    "feed_elements": "/services/data/v{version}/chatter/feed-elements",
}


class _Refused(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code

    def response(self) -> Response:
        return PlainTextResponse(self.code, status_code=self.status, headers=NO_STORE)


def _same_id(left: str, right: str) -> bool:
    # 15- and 18-character forms of one id share their first 15 (case-sensitive) characters.
    return len(left) in (15, 18) and len(right) in (15, 18) and left[:15] == right[:15]


def _utc_offset_ms(tz_name: str, now: dt.datetime) -> int:
    try:
        offset = now.astimezone(ZoneInfo(tz_name)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    return int(offset.total_seconds() * 1000) if offset is not None else 0


def _text(user: Record, name: str) -> str | None:
    value = user.get(name)
    return str(value) if value is not None else None


def _photos(base: str) -> dict[str, str]:
    return {
        "picture": f"{base}/profilephoto/005/F",
        "thumbnail": f"{base}/profilephoto/005/T",
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class _Person:
    """The User record's fields as the identity service words them."""

    user_id: str
    username: str
    nickname: str
    name: str
    email: str
    first_name: str | None
    last_name: str
    timezone: str
    address: dict[str, str | None]
    mobile_phone: str | None
    active: bool
    user_type: str
    language: str
    locale: str
    utc_offset_ms: int
    modified: str

    @classmethod
    def of(cls, user: Record, org: OrgView) -> _Person:
        first = _text(user, "FirstName")
        last = _text(user, "LastName") or ""
        timezone = _text(user, "TimeZoneSidKey") or "GMT"
        modified = user.get("LastModifiedDate")
        return cls(
            user_id=str(user["Id"]),
            username=_text(user, "Username") or "",
            nickname=_text(user, "CommunityNickname") or _text(user, "Alias") or "",
            name=_text(user, "Name") or " ".join(p for p in (first, last) if p),
            email=_text(user, "Email") or "",
            first_name=first,
            last_name=last,
            timezone=timezone,
            address={
                "street_address": _text(user, "Street"),
                "locality": _text(user, "City"),
                "region": _text(user, "State"),
                "country": _text(user, "Country"),
                "postal_code": _text(user, "PostalCode"),
            },
            mobile_phone=_text(user, "MobilePhone"),
            active=user.get("IsActive", True) is not False,
            user_type=(_text(user, "UserType") or "STANDARD").upper(),
            language=_text(user, "LanguageLocaleKey") or "en_US",
            locale=_text(user, "LocaleSidKey") or "en_US",
            utc_offset_ms=_utc_offset_ms(timezone, org.now()),
            modified=format_datetime(modified if isinstance(modified, dt.datetime) else org.now()),
        )


class IdentityEndpoints:
    """The identity URL and userinfo handlers.

    Args:
        directory: Finds the org of a token and of a path.
        tokens: Validates the bearer token.
    """

    def __init__(self, directory: Directory, tokens: TokenStore) -> None:
        self._directory = directory
        self._tokens = tokens

    async def _session(self, request: Request) -> tuple[Session, OrgView]:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        token = credentials.strip() if scheme.lower() in {"bearer", "oauth"} else ""
        if not token:
            token = request.query_params.get("oauth_token") or request.query_params.get(
                "access_token", ""
            )
        if not token and request.method == "POST":
            form = await request.form()
            value = form.get("oauth_token") or form.get("access_token")
            token = value if isinstance(value, str) else ""
        if not token:
            raise _Refused(403, "Missing_OAuth_Token")
        try:
            session = self._tokens.validate(token)
        except ApiError as exc:
            raise _Refused(403, "Bad_OAuth_Token") from exc
        org = self._directory.org(session.org_id)
        if org is None:
            raise _Refused(403, "Bad_OAuth_Token")
        return session, org

    def _version(self, request: Request) -> str:
        version = request.query_params.get("version")
        if version is None:
            return "{version}"
        if version == "latest":
            return LATEST_API_VERSION
        match = _VERSION.match(version)
        if match is None:
            raise _Refused(406, "Invalid_Version")
        return match.group(1)

    def _urls(self, base: str, org: OrgView, user_id: str, version: str) -> dict[str, str]:
        urls = {
            name: base + path.format(version=version, org=org.org_id, user=user_id)
            for name, path in _URLS.items()
        }
        urls["custom_domain"] = base
        return urls

    def _user(self, org: OrgView, user_id: str) -> Record:
        user = org.get(user_id)
        if user is None or not _same_id(str(user.get("Id", "")), user_id):
            raise _Refused(404, "Bad_Id")
        if user.get("IsActive") is False:
            raise _Refused(404, "Inactive")
        return user

    async def identity(self, request: Request) -> Response:
        """``GET /id/{org}/{user}``: who a user is, and where the org's APIs live."""
        try:
            session, org = await self._session(request)
            if not _same_id(request.path_params["org_id"], org.org_id):
                raise _Refused(403, "Wrong_Org")
            user = self._user(org, request.path_params["user_id"])
            version = self._version(request)
        except _Refused as refused:
            return refused.response()
        base = base_url(request)
        p = _Person.of(user, org)
        body: dict[str, Any] = {
            "id": identity_url(base, org.org_id, p.user_id),
            "asserted_user": _same_id(p.user_id, session.user_id),
            "user_id": p.user_id,
            "organization_id": org.org_id,
            "username": p.username,
            "nick_name": p.nickname,
            "display_name": p.name,
            "email": p.email,
            "email_verified": True,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "timezone": p.timezone,
            "photos": _photos(base),
            "addr_street": p.address.get("street_address"),
            "addr_city": p.address.get("locality"),
            "addr_state": p.address.get("region"),
            "addr_country": p.address.get("country"),
            "addr_zip": p.address.get("postal_code"),
            "mobile_phone": p.mobile_phone,
            "mobile_phone_verified": False,
            "is_lightning_login_user": False,
            "status": {"created_date": None, "body": None},
            "urls": self._urls(base, org, p.user_id, version),
            "active": p.active,
            "user_type": p.user_type,
            "language": p.language,
            "locale": p.locale,
            "utcOffset": p.utc_offset_ms,
            "last_modified_date": p.modified,
            "is_app_installed": True,
        }
        return JSONResponse(body, headers=NO_STORE, media_type=JSON_TYPE)

    async def userinfo(self, request: Request) -> Response:
        """``GET /services/oauth2/userinfo``: the OpenID Connect claims of the token's user."""
        try:
            session, org = await self._session(request)
            user = self._user(org, session.user_id)
        except _Refused as refused:
            return refused.response()
        base = base_url(request)
        p = _Person.of(user, org)
        body: dict[str, Any] = {
            "sub": identity_url(base, org.org_id, p.user_id),
            "user_id": p.user_id,
            "organization_id": org.org_id,
            "preferred_username": p.username,
            "nickname": p.nickname,
            "name": p.name,
            "email": p.email,
            "email_verified": True,
            "given_name": p.first_name,
            "family_name": p.last_name,
            "zoneinfo": p.timezone,
            "photos": _photos(base),
            "profile": f"{base}/{p.user_id}",
            "picture": _photos(base)["picture"],
            "address": {k: v for k, v in p.address.items() if v is not None},
            "is_salesforce_integration_user": False,
            "urls": self._urls(base, org, p.user_id, "{version}"),
            "active": p.active,
            "user_type": p.user_type,
            "language": p.language,
            "locale": p.locale,
            "utcOffset": p.utc_offset_ms,
            "updated_at": p.modified,
            "is_app_installed": True,
        }
        return JSONResponse(body, headers=NO_STORE, media_type=JSON_TYPE)
