"""Who may do what in the app: the four roles, and the one check every page callback uses.

Roles, lowest first (issue 16): a **viewer** sees the network, gaps and consortia without
contact details; a **link worker** also sees contacts and referral sheets; an **editor** also
uploads data and makes update requests; an **admin** also manages accounts and undoes loads.

The request's role is put on :data:`flask.g` by the app's sign-in layer before any page or
callback runs.  Pages never decide who someone is; they only ask :func:`current_role` and
:func:`require`, and they check on the server inside the callback (a hidden button is not a
permission).

The sign-in layer itself lives here too (:func:`install`, used by ``app.py``).  Each request
is served in one of three modes, chosen from the settings at that request:

- **local** (no accounts, no proxy): whoever opens the app is an admin, as before accounts
  existed; ``pathways serve`` then binds to this machine only, and requests from any other
  address are refused (so ``gunicorn --bind 0.0.0.0`` without accounts opens nothing).  State-changing requests from
  another site's page (a cross-site ``Origin``) are refused.  So are requests that came
  through a proxy (they carry ``Forwarded``, ``X-Forwarded-*``, ``X-Real-IP`` or ``Via``: a
  reverse proxy on this machine makes everyone's requests loopback ones) and requests for
  a host name other than this computer's (``localhost``, a loopback address, its own name:
  a web page whose name was pointed at 127.0.0.1, "DNS rebinding", gets nothing).
- **accounts** (``pathways users add`` made at least one): every page and callback needs a
  signed-in user, or a share link for that one page (:mod:`pathways.share_links`).  Sessions
  are Flask's signed cookies, signed with the server's secret (``$PATHWAYS_HOME/server-secret``,
  0600), HttpOnly, SameSite=Lax, Secure when ``PATHWAYS_SECURE_COOKIES`` is on, and end after
  ``PATHWAYS_IDLE_MINUTES`` without a request.  The account is read from the accounts file at
  every request, so a new role or a removed account applies at once.
- **proxy** (``PATHWAYS_TRUSTED_HEADERS`` on): the organisation's single sign-on proxy names
  the user and role in two headers; anyone who can reach the app without passing through
  that proxy could set them, so this mode is off by default and only for an app reachable
  through the proxy alone.

In the accounts and proxy modes every state-changing request (a POST: sign-in, sign-out and
every Dash callback) must carry the session's CSRF token, as the ``csrf_token`` form field or
the ``X-CSRFToken`` header; the token is also put in the ``_csrf_token`` cookie (readable by
scripts, SameSite=Strict), from which Dash's renderer copies it into that header by itself.
This is the "synchronizer token" of OWASP's CSRF advice, written here in a few lines rather
than with Flask-WTF, which would bring WTForms for one comparison and signs with the app's
import-time ``secret_key``, while this app's secret lives under ``PATHWAYS_HOME``.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import secrets
import socket
import time
from dataclasses import dataclass
from enum import IntEnum
from urllib.parse import quote, urlsplit

from flask import Flask, Response, g, has_request_context, redirect, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from pathways.accounts import ROLE_NAMES, Accounts, server_secret, sign_in_mode
from pathways.config import Settings
from pathways.errors import PathwaysError
from pathways.share_links import ShareLink, ShareLinks


class Role(IntEnum):
    VIEWER = 1
    LINK_WORKER = 2
    EDITOR = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").lower()

    @property
    def key(self) -> str:
        """The role's name in accounts files, headers and the CLI (``link-worker``)."""
        return self.name.replace("_", "-").lower()

    @classmethod
    def named(cls, name: str | None) -> Role | None:
        """The role called ``name`` (``link-worker``, ``link_worker``, any case), else None."""
        key = (name or "").strip().lower().replace("_", "-")
        return cls[key.replace("-", "_").upper()] if key in ROLE_NAMES else None


class AccessDenied(PathwaysError):
    """A request asked for something its role may not do (the message says which role may)."""


# Without a sign-in layer (the local, loopback-only app), whoever can open it runs it: admin.
LOCAL_ROLE = Role.ADMIN


def current_role() -> Role:
    """The role of the request being served (outside a request, e.g. a script: the local role)."""
    if has_request_context():
        role = g.get("pathways_role")
        if role is not None:
            return Role(role)
    return LOCAL_ROLE


def allowed(role: Role) -> bool:
    return current_role() >= role


def require(role: Role, what: str) -> None:
    """Refuse ``what`` (e.g. "upload data") unless the request's role is at least ``role``."""
    have = current_role()
    if have < role:
        raise AccessDenied(f"Only {role.label}s and above can {what}; you are signed in as a "
                           f"{have.label}.")


# --- the sign-in layer ------------------------------------------------------------------------

SESSION_COOKIE = "pathways_session"
CSRF_COOKIE = "_csrf_token"   # what dash-renderer reads (Dash(csrf_token_name=...) default)
CSRF_HEADER = "X-CSRFToken"   # and the header it sends the token back in
CSRF_FIELD = "csrf_token"     # the sign-in and sign-out forms' hidden field
PUBLIC_PATHS = ("/login", "/_favicon.ico", "/favicon.ico")
PUBLIC_PREFIXES = ("/assets/", "/s/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# The largest request body anyone but an editor sends (a callback's ids and filters, a
# form); only editors upload files (the app's MAX_CONTENT_LENGTH, tens of MB, is for them).
# Read before the body: a viewer or a share link's visitor cannot make each worker parse
# tens of MB of JSON (a 60 MB list of ids: 3.6 s and ~400 MB per request).
SMALL_REQUEST_BYTES = 2 * 1024 * 1024
BIG_BODY = "Refused: this request is far bigger than any page sends (only editors upload files)."

_pinned: Settings | None = None


def configure(settings: Settings | None) -> None:
    """Use ``settings`` (the CLI's) for sign-in, instead of reading the environment at each
    request (tests and ``gunicorn app:server`` read the environment)."""
    global _pinned
    _pinned = settings


def settings() -> Settings:
    return _pinned if _pinned is not None else Settings.from_env()


def mode(chosen: Settings | None = None) -> str:
    """``proxy``, ``accounts`` or ``local`` (see the module's docstring)."""
    return sign_in_mode(chosen or settings())


@dataclass(frozen=True)
class Who:
    """Whoever the request is from: ``via`` is ``local``, ``account``, ``proxy`` or ``share``."""

    name: str
    role: Role
    via: str
    share: ShareLink | None = None


def current_user() -> Who | None:
    """Who the request is from (None outside a request or when nobody is signed in)."""
    return g.get("pathways_user") if has_request_context() else None


def share_links(chosen: Settings | None = None) -> ShareLinks:
    chosen = chosen or settings()
    return ShareLinks(chosen.share_links_file, server_secret(chosen.secret_file))


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


class _Sessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, signed with the server's secret under PATHWAYS_HOME
    (only in the accounts and proxy modes: the local mode keeps no session)."""

    def get_signing_serializer(self, app: Flask):
        chosen = settings()
        if g.get("pathways_mode", mode(chosen)) == "local":
            return None
        app.secret_key = server_secret(chosen.secret_file)  # what the parent class signs with
        return super().get_signing_serializer(app)

    def get_cookie_name(self, app: Flask) -> str:
        return SESSION_COOKIE

    def get_cookie_secure(self, app: Flask) -> bool:
        return settings().secure_cookies

    def get_cookie_httponly(self, app: Flask) -> bool:
        return True

    def get_cookie_samesite(self, app: Flask) -> str:
        return "Lax"  # sent when a link from an e-mail is followed; Strict would sign people out


SIGN_IN_HEADER = "X-Pathways-Sign-In"  # assets/sign_in.js then opens the sign-in page


def refusal(message: str, status: int, sign_in: bool = False) -> Response:
    """A plain-words refusal for a request that is not a page (a callback, a form post);
    ``sign_in``: signing in would let it through (the page's script goes to sign in)."""
    response = Response(message, status=status, mimetype="text/plain")
    if sign_in:
        response.headers[SIGN_IN_HEADER] = "required"
    return response


def _from_this_computer() -> bool:
    """True when the request came from a loopback address (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address((request.remote_addr or "").split("%")[0]).is_loopback
    except ValueError:
        return False


# Set by reverse proxies (and only by them): RFC 7239, the de facto X-Forwarded-* family
# (werkzeug's ProxyFix reads five of them), nginx's X-Real-IP, and HTTP's own Via.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
                 "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Real-IP", "Via")


def _through_a_proxy() -> bool:
    """True when the request names a proxy it came through."""
    return any(name in request.headers for name in PROXY_HEADERS)


@functools.cache
def _own_name() -> str:
    return socket.gethostname().lower()


def _for_this_computer() -> bool:
    """True when the request asks for this computer by a name only it answers to
    (``localhost``, ``*.localhost``, a loopback or unspecified address, its own host name)."""
    host = (request.host or "").lower()
    name = host[1:host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
    if name == "localhost" or name.endswith(".localhost") or name == _own_name():
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


class ClientAddress:
    """WSGI middleware: with ``PATHWAYS_TRUSTED_PROXIES`` = N > 0, the request's address
    (``request.remote_addr``, which the sign-in limit counts per) is the client's, as the Nth
    proxy from the app wrote it in ``X-Forwarded-For`` (werkzeug's :class:`ProxyFix`, which
    ignores what any proxy further out, or the client itself, put there); with 0 the header
    is ignored and the address is the connection's.  The setting is read at each request."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self._fixed: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        proxies = settings().trusted_proxies
        if proxies <= 0:
            return self.wsgi_app(environ, start_response)
        fixed = self._fixed.get(proxies)
        if fixed is None:
            fixed = self._fixed[proxies] = ProxyFix(self.wsgi_app, x_for=proxies, x_proto=0,
                                                    x_host=0, x_port=0, x_prefix=0)
        return fixed(environ, start_response)


def _cross_site() -> bool:
    """True when a state-changing request came from another site's page."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc != request.host


def _csrf_ok() -> bool:
    expected = session.get("csrf")
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    return isinstance(expected, str) and hmac.compare_digest(expected.encode(), sent.encode())


def _identify(chosen: Settings, how: str) -> Who | None:
    if how == "proxy":
        name = (request.headers.get(chosen.user_header) or "").strip()
        role = Role.named(request.headers.get(chosen.role_header))
        return Who(name, role, "proxy") if name and role else None
    now = time.time()
    seen = session.get("seen")
    if (session.get("user") or session.get("share")) and isinstance(seen, (int, float)) \
            and now - seen > chosen.idle_minutes * 60:
        for key in ("user", "share", "seen"):
            session.pop(key, None)
        g.pathways_idle = True
        return None
    who = None
    if isinstance(session.get("user"), str):
        account = Accounts(chosen.accounts_file).get(session["user"])
        role = Role.named(account.role) if account else None
        if account is None or role is None:
            session.pop("user", None)  # removed since: signed out
        else:
            who = Who(account.name, role, "account")
    elif isinstance(session.get("share"), str):
        link = share_links(chosen).is_active(session["share"])
        if link is None:
            session.pop("share", None)  # revoked or expired since
        else:
            who = Who("a share link", Role.VIEWER, "share", link)
    if who is not None and (not isinstance(seen, (int, float)) or now - seen > 30):
        session["seen"] = now
    return who


def _requested(body: object) -> tuple[str, dict] | None:
    """The output key and callback-map entry of the callback a Dash request asks for (None
    for a body that names none of the app's callbacks)."""
    import dash

    output = body.get("output") if isinstance(body, dict) else None
    if not isinstance(output, str):
        return None
    entry = dash.get_app().callback_map.get(output)
    return None if entry is None else (output, entry)


def _router_path(body: object, entry: dict) -> str | None:
    """The page a Dash page-routing callback (``entry``) asks for in ``body`` (None for any
    other callback).

    Dash hands a callback its inputs by position, whatever ids the request gives them, so
    the routed page is read only for the request naming the router's own output, at the
    position the router declared ``_pages_location.pathname``: a ``_pages_location`` input
    put into another callback's request is just that callback's first argument."""
    sent = body.get("inputs") if isinstance(body, dict) else None
    for index, declared in enumerate(entry.get("inputs", [])):
        if declared.get("id") == "_pages_location" and declared.get("property") == "pathname":
            item = sent[index] if isinstance(sent, list) and index < len(sent) else None
            return str((item.get("value") if isinstance(item, dict) else None) or "/")
    return None


def _output_ids(key: str) -> list[str]:
    """The component ids a callback writes, from its key in Dash's callback map
    (``"gp-download.data"`` or ``"..a.children...b.data.."``)."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [part.rsplit(".", 1)[0] for part in parts]


def _prefix(component: object) -> str | None:
    """``gp`` for ``gp-hops``: the pages name their components with a prefix of their own."""
    if not isinstance(component, str) or component.startswith("{") or "-" not in component:
        return None  # a pattern-matching id (a dict) has no prefix
    return component.split("-", 1)[0]


def _page_prefixes(callback_map: dict, modules: dict[str, str]) -> dict[str, str]:
    """Each id prefix that only one page's own callbacks write, and that page's path."""
    found: dict[str, set[str]] = {}
    for key, entry in callback_map.items():
        page = modules.get(getattr(entry.get("callback"), "__module__", None) or "")
        if page is None:
            continue
        for component in _output_ids(key):
            if (prefix := _prefix(component)) is not None:
                found.setdefault(prefix, set()).add(page)
    return {prefix: pages.pop() for prefix, pages in found.items() if len(pages) == 1}


def _callback_page(output: str, entry: dict) -> str | None:
    """The page (its path) the callback writing ``output`` (``entry`` in Dash's callback
    map) belongs to: the page whose module registered it, or, for the shared pieces'
    callbacks (a network's details, the what-if panel, the funders), the page whose
    components it reads or writes (by their ids' prefix); None for a callback of no one page
    (the top bar's).  A share link's visitor may run only its own page's callbacks."""
    import dash

    callback_map = dash.get_app().callback_map
    modules = {page["module"]: page["path"] for page in dash.page_registry.values()}
    module = getattr(entry.get("callback"), "__module__", None)
    if module in modules:
        return modules[module]
    prefixes = _page_prefixes(callback_map, modules)
    components = _output_ids(output) + [item.get("id") for item in
                                        entry.get("inputs", []) + entry.get("state", [])]
    pages = sorted({prefixes[p] for p in map(_prefix, components) if p in prefixes})
    return pages[0] if pages else None


def sign_in_address(next_path: str | None = None) -> str:
    return "/login" + (f"?next={quote(next_path, safe='/')}" if next_path else "")


def _gate() -> Response | None:
    """Runs before every request: who it is from, and whether it may go on."""
    chosen = settings()
    how = g.pathways_mode = mode(chosen)
    unsafe = request.method not in SAFE_METHODS
    if unsafe and _cross_site():
        return refusal("Refused: this request came from another web site's page.", 403)
    if how == "local":
        if _through_a_proxy():  # a proxy on this machine makes every request loopback
            return refusal("This app has no accounts, so it answers only people using the "
                           "computer it runs on, and this request came through a proxy (it "
                           "could be from anyone). Whoever runs it can add accounts with "
                           "`pathways users add`, or use the organisation's single sign-on "
                           "(PATHWAYS_TRUSTED_HEADERS).", 403)
        if not _for_this_computer():  # e.g. another site's name pointed at 127.0.0.1
            return refusal("This app has no accounts, so it answers only the computer it runs "
                           "on, opened by that computer's own name (such as localhost). "
                           "Whoever runs it can add accounts with `pathways users add`.", 403)
        if not _from_this_computer():  # e.g. gunicorn --bind 0.0.0.0 without accounts
            return refusal("This app has no accounts, so it answers only the computer it runs "
                           "on (everyone using it is an admin). Whoever runs it can add "
                           "accounts with `pathways users add`.", 403)
        g.pathways_role = LOCAL_ROLE
        g.pathways_user = Who("local user", LOCAL_ROLE, "local")
        return None
    csrf_token()
    big = unsafe and (request.content_length or 0) > SMALL_REQUEST_BYTES
    if unsafe and not big:  # until the sender is known to be an editor (only they upload)
        request.max_content_length = SMALL_REQUEST_BYTES  # also for a chunked body
    elif big and not request.headers.get(CSRF_HEADER):  # a form (sign-in, sign-out) is never big
        return refusal(BIG_BODY, 413)
    if unsafe and not _csrf_ok():
        return refusal("Refused: this form or page has expired or came from another site "
                       "(its security token is missing or wrong). Reload the page and try "
                       "again.", 400)
    who = _identify(chosen, how)
    if who is not None:
        g.pathways_user = who
        g.pathways_role = int(who.role)
    if unsafe and who is not None and who.role >= Role.EDITOR:
        request.max_content_length = None  # an editor's upload: the app's own limit
    elif big:  # from anyone else
        return refusal(BIG_BODY, 413)
    path = request.path
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return None
    page_request = request.method == "GET" and not path.startswith("/_")
    here = path + (f"?{request.query_string.decode()}" if request.query_string else "")
    if who is None:
        if how == "proxy":
            return refusal("This app takes its sign-in from your organisation's single sign-on, "
                           "and this request came without it: open the app through the "
                           "organisation's address.", 403)
        if page_request:
            return redirect(sign_in_address(here))  # type: ignore[return-value]
        return refusal("Sign in first: your session has ended. Reload the page to sign in.", 401,
                       sign_in=True)
    if who.share is not None:
        asked: list[str | None] = [path] if page_request else []
        if request.method == "POST" and path.endswith("/_dash-update-component"):
            body = request.get_json(silent=True)
            found = _requested(body)
            asked = [] if found is None else [_router_path(body, found[1]),
                                               _callback_page(*found)]
        if any(page is not None and page != who.share.path for page in asked):
            if page_request:
                return redirect(sign_in_address(here))  # type: ignore[return-value]
            return refusal("A share link opens only the page it was made for: sign in to see "
                           "other pages.", 403, sign_in=True)
    return None


def _csrf_cookie(response: Response) -> Response:
    """Hand the session's CSRF token to the page's scripts (dash-renderer sends it back)."""
    if g.get("pathways_mode") in ("accounts", "proxy") and isinstance(session.get("csrf"), str):
        token = session["csrf"]
        if request.cookies.get(CSRF_COOKIE) != token:
            response.set_cookie(CSRF_COOKIE, token, secure=settings().secure_cookies,
                                httponly=False, samesite="Strict")
    return response


def _no_framing(response: Response) -> Response:
    """No other site's page may show the app in a frame: there, a visitor's clicks could be
    steered onto the app's buttons ("clickjacking"), such as Undo on the History page in the
    local mode, where whoever can open the app is its admin and no cookie is needed
    (``X-Frame-Options`` for older browsers, CSP ``frame-ancestors`` for the rest)."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    return response


def install(server: Flask) -> None:
    """Put the sign-in layer in front of every page and callback of ``server``."""
    server.wsgi_app = ClientAddress(server.wsgi_app)  # type: ignore[method-assign]
    server.session_interface = _Sessions()
    server.before_request(_gate)
    server.after_request(_csrf_cookie)
    server.after_request(_no_framing)
