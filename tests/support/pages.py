"""The one way tests open a page with AppTest, as a browser arrives at it: the app's home script runs first, then the
page, with the link's query parameters and any session state set beforehand; a page that raised fails the test.
`open_signed_in()` does the same as an analyst signed in with Streamlit's sign-in (`st.user` after `st.login()`; the
test sets AUTH_MODE=oidc)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

HOME = str(Path(__file__).resolve().parents[2] / "home.py")
# Seconds an AppTest script run may take: a page run takes well under a second here when the machine is quiet, many
# times that beside CPU hogs on a shared 2-core machine. A run that ends sooner returns at once.
RUN_TIMEOUT = 120


def open_page(path: str | None = None, *, timeout: float = RUN_TIMEOUT, state: dict[str, Any] | None = None,
              user: dict[str, Any] | None = None, **query: str) -> AppTest:
    """`path` (e.g. "pages/chat.py"; None: the home page) after the home page, with `?name=value` from `query`;
    `user`: the claims `st.user` holds (None: nobody signed in)."""
    at = AppTest.from_file(HOME, default_timeout=timeout)
    if user is not None:
        at.user = user
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    for name, value in query.items():
        at.query_params[name] = value
    if path:
        at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def signed_in(email: str, name: str | None = None, **claims: Any) -> dict[str, Any]:
    """`st.user` as Streamlit's OpenID Connect sign-in fills it (AppTest's `at.user`): the provider's claims, with
    the ID token's issue and expiry times (an hour, as providers give)."""
    issued = int(time.time())
    return {"is_logged_in": True, "email": email, "name": name or email.split("@")[0].title(), "iat": issued,
            "exp": issued + 3600, **claims}


def open_signed_in(path: str | None, email: str, *, name: str | None = None, **options: Any) -> AppTest:
    """`open_page(path, **options)` as the analyst `email` (AUTH_MODE=oidc, set by the test)."""
    return open_page(path, user=signed_in(email, name), **options)


def proto_strings(at: AppTest, keep: Callable[[str, str, bool], bool],
                  skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(element type.field path, text) for the string fields of every element on the page (sidebar and toasts
    included) that `keep(message type, field name, repeated)` keeps, a repeated field item by item; elements whose
    proto type is in `skip` are not read."""
    found: list[tuple[str, str]] = []

    def fields(message: Any, where: str) -> None:
        for descriptor, value in message.ListFields():
            if descriptor.type == descriptor.TYPE_MESSAGE:
                for item in (value if descriptor.is_repeated else [value]):
                    fields(item, f"{where}.{descriptor.name}")
            elif descriptor.type == descriptor.TYPE_STRING and keep(message.DESCRIPTOR.name, descriptor.name,
                                                                      descriptor.is_repeated):
                found.extend((f"{where}.{descriptor.name}", item)
                             for item in (value if descriptor.is_repeated else [value]))

    def walk(node: Any) -> None:
        if (proto := getattr(node, "proto", None)) is not None and type(proto).__name__ not in skip:
            fields(proto, type(proto).__name__)
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(at._tree)
    return found
