"""The authorize pages a browser sees in the web server flow: login, approve, error.

Plain server-rendered HTML with no script. Every value is escaped; the pending authorize
request travels in hidden form fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

#: Human wording of the scopes shown on the approve page.
SCOPE_LABELS = {
    "api": "Access and manage your data (api)",
    "refresh_token": "Perform requests on your behalf at any time (refresh_token, offline_access)",
    "offline_access": "Perform requests on your behalf at any time (refresh_token, offline_access)",
    "id": "Access your basic information (id, profile, email, address, phone)",
    "openid": "Access unique user identifiers (openid)",
    "full": "Full access (full)",
    "web": "Provide access to your data via the Web (web)",
}

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f3f3f3;margin:0;color:#181818}
main{max-width:26rem;margin:4rem auto;background:#fff;border:1px solid #ddd;border-radius:.5rem;
padding:2rem}
h1{font-size:1.25rem;margin:0 0 1rem}
label{display:block;margin:.75rem 0 .25rem;font-size:.9rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;
border:1px solid #bbb;border-radius:.25rem}
button{margin-top:1.25rem;margin-right:.5rem;padding:.5rem 1.25rem;border-radius:.25rem;
border:1px solid #0b5cab;background:#0b5cab;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b5cab}
.error{color:#ba0517;background:#fef1ee;padding:.5rem;border-radius:.25rem}
.note{color:#555;font-size:.85rem}
"""


def _document(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def _hidden(fields: Mapping[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )


def login_page(
    *,
    action: str,
    app_name: str,
    hidden: Mapping[str, str],
    username: str = "",
    error: str | None = None,
) -> str:
    """The login form.

    Args:
        action: Where the form posts.
        app_name: The connected app asking for access.
        hidden: The pending authorize request, carried along.
        username: Pre-filled username (after a failed attempt, or ``login_hint``).
        error: A message shown above the form.

    Returns:
        The HTML document.
    """
    problem = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        "<h1>Log in to sfemu</h1>"
        f'<p class="note">{escape(app_name)} wants to connect to your org.</p>'
        f"{problem}"
        f'<form method="post" action="{escape(action)}">'
        '<input type="hidden" name="step" value="login">'
        f"{_hidden(hidden)}"
        '<label for="username">Username</label>'
        f'<input type="text" id="username" name="username" value="{escape(username)}" '
        'autocomplete="username" required autofocus>'
        '<label for="password">Password</label>'
        '<input type="password" id="password" name="password" '
        'autocomplete="current-password" required>'
        '<button type="submit">Log In</button>'
        "</form>"
    )
    return _document("Login | sfemu", body)


def approve_page(
    *,
    action: str,
    app_name: str,
    username: str,
    scopes: Iterable[str],
    hidden: Mapping[str, str],
) -> str:
    """The "Allow access?" page.

    Args:
        action: Where the form posts.
        app_name: The connected app asking for access.
        username: Who is logged in.
        scopes: The scopes requested.
        hidden: The pending request (including its ticket), carried along.

    Returns:
        The HTML document.
    """
    labels = dict.fromkeys(SCOPE_LABELS.get(s, s) for s in scopes)
    items = "".join(f"<li>{escape(label)}</li>" for label in labels)
    body = (
        "<h1>Allow access?</h1>"
        f"<p>{escape(app_name)} is asking to:</p><ul>{items}</ul>"
        f'<p class="note">Logged in as {escape(username)}.</p>'
        f'<form method="post" action="{escape(action)}">'
        '<input type="hidden" name="step" value="approve">'
        f"{_hidden(hidden)}"
        '<button type="submit" name="decision" value="allow">Allow</button>'
        '<button type="submit" name="decision" value="deny" class="secondary">Deny</button>'
        "</form>"
    )
    return _document("Allow access? | sfemu", body)


def error_page(*, error: str, description: str) -> str:
    """The page shown instead of a redirect (unknown client, bad redirect URI).

    Args:
        error: The OAuth error code.
        description: What went wrong.

    Returns:
        The HTML document.
    """
    body = (
        "<h1>OAuth error</h1>"
        f'<p class="error" role="alert">error={escape(error)}</p>'
        f"<p>{escape(description)}</p>"
    )
    return _document("Error | sfemu", body)
