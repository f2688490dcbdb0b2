"""Directory feeds from a live API: page through an Open Referral UK 1.0 or HSDS 3.0
``/services`` endpoint and save what it answers, so that the feed loader reads it offline.

:func:`fetch_feed` asks for ``?page=1``, ``?page=2``... (``per_page`` added when the address
has none) until the API's own totals (ORUK ``totalPages``/``last``, HSDS ``total_pages``/
``last_page``) say it is done, or a page comes back short or empty when it gives none.  With
``full`` it also asks ``/services/{id}`` for every listed service that lacks the detail
(locations, schedules, taxonomy, contacts).  It is polite and patient: at most ``rate``
requests a second; a timeout, a dropped connection, a page cut off, ``429 Too Many
Requests`` (waiting as ``Retry-After`` says) and ``5xx`` answers are tried again after a
growing wait, a bounded number of times; other ``4xx`` answers are not (asking again would
get the same answer).

What it saves, in one folder::

    FOLDER/manifest.json               the address (no credentials), times, pages, complete or not
    FOLDER/pages/<api>.p00001.json     page 1 exactly as the API sent it
    FOLDER/pages/<api>.p00001.full.json  (--full) the detail records of page 1's services

A page is saved only once it (and, with ``full``, its details) has been read whole and
checked with the feed loader's own JSON rules and size limits, so an interrupted fetch
continues from the first page not saved.  ``FOLDER/pages`` is a plain feed folder: the feed
loader (:func:`loaders.feeds.plan_feed`) reads it as it reads any other.  The page files are
named after the API's address, so two APIs saved apart never pass for the same feed.

No database here: :mod:`pathways.loading` writes what was fetched, and only when the fetch
is complete (see ``docs/feeds.md``, "Loading from a live API").
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx

from loaders.feed_records import read_json_documents, record_id
from loaders.limits import MB, limit_mb, mb
from loaders.quality import QualityReport
from pathways.errors import InputError, Problem

__all__ = ["FetchError", "FetchOptions", "Fetched", "fetch_feed", "is_url", "saved_feed"]

MANIFEST = "manifest.json"
PAGES = "pages"
DEFAULT_RATE = 2.0  # requests a second: a council's directory server is not a CDN
MAX_PAGES = 10_000  # 1M services at 100 a page; more is an API that never says it is done
USER_AGENT = "thriving-pathways (directory import; +https://openreferral.org)"

#: list fields whose presence (non-empty) means a record already carries its detail
DETAIL_KEYS = frozenset({
    "service_at_locations", "regular_schedules", "service_taxonomys", "contacts",
    "eligibilitys", "cost_options", "schedules", "phones", "attributes", "languages",
    "service_areas", "locations",
})
_SECRET_PARAM = re.compile(r"key|token|secret|passw|pwd|auth|sig|credential|session", re.I)
_PAGE_PARAMS = ("page", "per_page")


class FetchError(InputError):
    """A fetch stopped: where (the address, the page) and why; nothing was written."""


@dataclass(frozen=True)
class FetchOptions:
    """How to fetch.  ``rate``: requests a second at most; ``retries``: further tries of one
    request after a retryable failure; ``backoff``: the first wait in seconds (doubled for
    each retry); ``max_wait``: the longest ``Retry-After`` honoured."""

    full: bool = False
    rate: float = DEFAULT_RATE
    timeout: float = 30.0
    retries: int = 4
    backoff: float = 1.0
    max_wait: float = 120.0
    per_page: int = 100


@dataclass
class Fetched:
    """What a fetch saved: the folder, the page files to load, and whether it is whole."""

    folder: Path
    url: str  # as shown: no credentials
    format: str | None
    complete: bool
    pages: int
    total_pages: int | None
    total_items: int | None
    files: list[Path] = field(default_factory=list)
    details: int = 0
    requests: int = 0
    error: str = ""

    def problem(self) -> Problem:
        """Why this fetch cannot be loaded as a whole feed (when it is not complete)."""
        of = f" of {self.total_pages}" if self.total_pages else ""
        why = f" ({self.error})" if self.error else ""
        return Problem(str(self.folder), 0, "", (
            f"the fetch from {self.url} is not complete: {self.pages}{of} page(s) saved{why};"
            f" run `pathways load {self.url} --save-to {self.folder}` again to continue it,"
            " or add --allow-partial to load the pages saved"))


def is_url(text: str) -> bool:
    """Whether a load argument is a web address rather than a path (``scheme://...``).

    >>> is_url("https://api.example.org/services"), is_url("feeds/services.json")
    (True, False)
    """
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) is not None


def shown_url(url: str) -> str:
    """``url`` safe to print or save: no user name or password, secret-looking query values
    (``api_key``, ``token``...) replaced by ``***``.

    >>> shown_url("https://me:pw@api.example.org/services?api_key=abc&page=2")
    'https://api.example.org/services?api_key=***&page=2'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    query = urlencode([(k, "***" if _SECRET_PARAM.search(k) else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)],
                      safe="*")
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def check_url(url: str) -> None:
    """Refuse anything but an ``http://`` or ``https://`` address with a host."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"}:
        raise FetchError([Problem(shown_url(url), 0, "", (
            f"only http:// and https:// addresses can be loaded, not {parts.scheme}://;"
            " for a file, give its path"))])
    if not parts.hostname:
        raise FetchError([Problem(shown_url(url), 0, "", "the address has no host name")])


def slug(url: str) -> str:
    """A file-name-safe name for an API: host, port and path (a short hash of any other
    query), e.g. ``api.example.org-services``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower() + (f"-{parts.port}" if parts.port else "")
    name = re.sub(r"[^a-z0-9.]+", "-", f"{host}{parts.path}".lower()).strip("-.")[:80]
    rest = sorted((k, v) for k, v in parse_qsl(parts.query) if k not in _PAGE_PARAMS)
    if rest:
        name += "-" + hashlib.sha1(urlencode(rest).encode()).hexdigest()[:8]
    return name or "api"


def default_folder(url: str, home: Path) -> Path:
    """Where a fetch is saved when no folder is given: ``HOME/feeds/<api>``."""
    return home / "feeds" / slug(url)


def with_query(url: str, **params: object) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def detail_url(url: str, record: str) -> str:
    """``/services/{id}`` beside a ``/services`` list address (its query dropped)."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/") + "/" + quote(record, safe="")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def lacks_detail(item: dict) -> bool:
    """True when a listed record has none of the detail a full record carries."""
    return not any(item.get(key) for key in DETAIL_KEYS)


# ----------------------------------------------------------------------------- pages


@dataclass
class _Page:
    items: list | None  # None: not a page of records (neither a page nor a bare list)
    total_pages: int | None
    total_items: int | None
    last: bool | None
    number: int | None
    format: str | None
    first: bool | None = None


def _int(doc: dict, *keys: str) -> int | None:
    for key in keys:
        value = doc.get(key)
        if type(value) is int and value >= 0:
            return value
    return None


def _page(doc: object) -> _Page:
    if isinstance(doc, list):  # a bare list: the whole feed in one answer
        return _Page(doc, None, None, True, None, None)
    if not isinstance(doc, dict):
        return _Page(None, None, None, True, None, None)
    items: list | None = None
    for key in ("content", "contents", "items", "data", "results"):
        if isinstance(doc.get(key), list):
            items = doc[key]
            break
    if items is None:
        return _Page(None, None, None, True, None, None)
    last = doc.get("last", doc.get("last_page"))
    first = doc.get("first", doc.get("first_page"))
    fmt = "oruk" if "totalElements" in doc or "content" in doc else (
        "hsds" if "total_items" in doc or "contents" in doc else None)
    return _Page(items, _int(doc, "totalPages", "total_pages"),
                 _int(doc, "totalElements", "total_items", "totalItems"),
                 last if isinstance(last, bool) else None,
                 _int(doc, "number", "page_number"), fmt,
                 first if isinstance(first, bool) else None)


# ----------------------------------------------------------------------------- requests


class _Pace:
    """At most ``rate`` request starts a second (none when ``rate`` is 0)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = 0.0

    def wait(self) -> None:
        now = time.monotonic()
        if now < self.next:
            time.sleep(self.next - now)
            now = self.next
        self.next = now + self.interval


class _Retry(Exception):
    def __init__(self, why: str, wait: float | None = None) -> None:
        super().__init__(why)
        self.why, self.wait = why, wait


class _Client:
    """One HTTP client for a fetch: pace, retries, size limit, JSON checked as the loader
    checks it.  Every failure becomes a :class:`FetchError` naming the address and page."""

    def __init__(self, url: str, options: FetchOptions) -> None:
        self.url, self.options = url, options
        self.shown = shown_url(url)
        self.pace = _Pace(options.rate)
        self.requests = 0
        self.client = httpx.Client(
            timeout=httpx.Timeout(options.timeout), follow_redirects=True,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"})

    def close(self) -> None:
        self.client.close()

    def fail(self, page: int, reason: str, what: str | None = None) -> FetchError:
        where = (what or self.shown) + (f" (page {page})" if page else "")
        return FetchError([Problem(where, 0, "", self._scrub(reason))])

    def _scrub(self, text: str) -> str:
        return text.replace(self.url, self.shown)

    def get_json(self, url: str, part: Path, page: int) -> object:
        """The one JSON value at ``url``, its body saved at ``part`` (the caller keeps or
        removes it).  Retries what may pass; raises :class:`FetchError` for the rest."""
        shown = shown_url(url)
        tries = self.options.retries + 1
        for attempt in range(1, tries + 1):
            try:
                return self._get_once(url, part, page, shown)
            except _Retry as retry:
                if attempt == tries:
                    raise self.fail(page, (
                        f"{retry.why} (tried {tries} times); the pages already saved are kept,"
                        " so running the same command again continues from here"),
                        shown) from None
                wait = retry.wait
                if wait is None:
                    wait = min(self.options.backoff * 2 ** (attempt - 1), 60.0)
                    wait *= 1 + random.random() / 10  # jitter, not secrecy
                time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_once(self, url: str, part: Path, page: int, shown: str) -> object:
        self.pace.wait()
        self.requests += 1
        limit = limit_mb("json") * MB
        try:
            with self.client.stream("GET", url) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    raise _Retry(f"the server answered {status} {response.reason_phrase}",
                                 self._retry_after(response, page, shown))
                if status != 200:
                    raise self.fail(page, self._refusal(status, response.reason_phrase), shown)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise self.fail(page, self._too_large(int(declared)), shown)
                size = 0
                with part.open("wb") as out:
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > limit:
                            raise self.fail(page, self._too_large(size), shown)
                        out.write(chunk)
        except httpx.TimeoutException:
            raise _Retry(f"no answer within {self.options.timeout:g} seconds") from None
        except httpx.TransportError as exc:  # refused, reset, cut off before the end
            raise _Retry(f"the connection failed ({self._scrub(str(exc)) or type(exc).__name__})"
                         ) from None
        scratch = QualityReport()
        docs = read_json_documents(part, part.name, scratch)
        if scratch.read_problems:
            reason = scratch.read_problems[0].reason
            raise _Retry(f"the answer is not whole, valid JSON: {reason}")
        if len(docs) != 1:
            raise _Retry(f"the answer holds {len(docs)} JSON values, not one")
        return docs[0]

    def _retry_after(self, response: httpx.Response, page: int, shown: str) -> float | None:
        given = response.headers.get("retry-after", "").strip()
        if not given:
            return None
        if given.isdigit():
            seconds = float(given)
        else:
            try:
                when = email.utils.parsedate_to_datetime(given)
            except (TypeError, ValueError):
                return None
            seconds = max(0.0, (when - datetime.now(UTC)).total_seconds())
        if seconds > self.options.max_wait:
            raise self.fail(page, (
                f"the server answered {response.status_code} and asks to wait {seconds:,.0f}"
                f" seconds (Retry-After), longer than {self.options.max_wait:g}; try again"
                " later: the pages already saved are kept"), shown)
        return seconds

    @staticmethod
    def _refusal(status: int, phrase: str) -> str:
        hint = {
            401: "the API needs a login or key this command does not send",
            403: "the API refuses this request (a key, or a blocked address?)",
            400: "if the API allows fewer records a page, give per_page= in the address",
            404: "there is nothing at this address: check it (ORUK and HSDS lists end in"
                 " /services)",
            410: "the API says this address is gone",
        }.get(status, "asking again would get the same answer")
        return f"the server answered {status} {phrase}: {hint}"

    @staticmethod
    def _too_large(size: int) -> str:
        return (f"the answer is over {mb(limit_mb('json') * MB)} ({mb(size)} so far), the limit"
                " for one JSON page; ask for fewer records a page (per_page=) or set"
                " PATHWAYS_MAX_JSON_MB")


# ----------------------------------------------------------------------------- manifest


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _read_manifest(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: object) -> None:
    """Write ``path`` whole or not at all (a temporary file renamed over it)."""
    temp = path.with_name(f".{path.name}.part")
    temp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(temp, path)


def _readable(path: Path) -> bool:
    scratch = QualityReport()
    return path.is_file() and len(read_json_documents(path, path.name, scratch)) == 1 \
        and not scratch.read_problems


def saved_feed(folder: Path) -> Fetched:
    """What an earlier fetch saved in ``folder`` (for loading it offline)."""
    manifest = _read_manifest(folder)
    if manifest is None:
        raise InputError([Problem(str(folder), 0, "", f"no readable {MANIFEST}: not a folder"
                                  " that `pathways load URL --save-to` wrote")])
    files = []
    pages = [e for e in manifest.get("pages", []) if isinstance(e, dict)]
    for entry in pages:
        for name in (entry.get("file"), entry.get("full_file")):
            if isinstance(name, str) and name:
                files.append(folder / PAGES / Path(name).name)  # never outside the folder
    missing = [f.name for f in files if not f.is_file()]
    fetched = Fetched(folder, str(manifest.get("url", "")), manifest.get("format"),
                      bool(manifest.get("complete")) and not missing,
                      len(pages), manifest.get("total_pages"),
                      manifest.get("total_items"), files, int(manifest.get("details", 0)),
                      0, str(manifest.get("error", "")))
    if missing:
        fetched.error = f"saved page file(s) missing: {', '.join(missing[:5])}"
    return fetched


# ----------------------------------------------------------------------------- fetching


Progress = Callable[[int, "int | None", int], None]  # pages saved, pages in all, details


def fetch_feed(url: str, folder: Path, options: FetchOptions = FetchOptions(), *,
               fmt: str | None = None, progress: Progress | None = None) -> Fetched:
    """Fetch every page of a ``/services`` list (and, with ``options.full``, the detail
    records it lacks) into ``folder``, continuing an interrupted fetch of the same address.

    Returns the :class:`Fetched` pages, complete.  Raises :class:`FetchError` (address, page,
    reason) when a page cannot be had; what was saved before it is kept for the next run.
    """
    check_url(url)
    shown = shown_url(url)
    pages_dir = folder / PAGES
    pages_dir.mkdir(parents=True, exist_ok=True)
    given = dict(parse_qsl(urlsplit(url).query)).get("per_page", "")
    state = _start(folder, shown, options, int(given) if given.isdigit() else options.per_page)
    client = _Client(url, options)
    try:
        _fetch_pages(client, url, pages_dir, state, options, fmt, progress)
    except FetchError as exc:
        state["error"] = "; ".join(p.reason for p in exc.problems)
        state["updated"] = _now()
        _write_json(folder / MANIFEST, state)
        raise
    finally:
        client.close()
    fetched = saved_feed(folder)
    fetched.requests = client.requests
    return fetched


def _start(folder: Path, shown: str, options: FetchOptions, per_page: int) -> dict:
    """The manifest to go on with: the unfinished fetch of this address, or a new one."""
    old = _read_manifest(folder)
    pages_dir = folder / PAGES
    if old is not None and old.get("url") not in (None, shown):
        raise FetchError([Problem(str(folder), 0, "", (
            f"this folder holds a fetch from {old.get('url')}; save {shown} in another folder"
            " (--save-to)"))])
    same = old is not None and old.get("full") == options.full \
        and old.get("per_page") == per_page
    if same and old is not None and not old.get("complete") and not old.get("restart"):
        kept = []
        for entry in old.get("pages", []):
            names = [entry.get("file"), entry.get("full_file")]
            if not all(_readable(pages_dir / Path(n).name) for n in names if n):
                break
            kept.append(entry)
        old["pages"], old["error"] = kept, ""
        return old
    # a new fetch: what an earlier one saved here goes, so no stale page is loaded
    for stale in pages_dir.glob("*.p[0-9][0-9][0-9][0-9][0-9]*.json"):  # ours only
        stale.unlink()
    return {"url": shown, "format": None, "full": options.full, "per_page": per_page,
            "started": _now(), "updated": _now(), "finished": None, "complete": False,
            "total_pages": None, "total_items": None, "details": 0, "pages": [], "error": ""}


def _fetch_pages(client: _Client, url: str, pages_dir: Path, state: dict,
                 options: FetchOptions, fmt: str | None, progress: Progress | None) -> None:
    name = slug(url)
    given = dict(parse_qsl(urlsplit(url).query))
    seen: dict[str, int] = {}
    for entry in state["pages"]:  # resumed: the records of the pages already saved
        for record in entry.get("ids", []):
            seen.setdefault(record, entry["page"])
    first_size = state.get("first_size")
    number = len(state["pages"]) + 1
    folder = pages_dir.parent
    if progress:
        progress(len(state["pages"]), state.get("total_pages"), state["details"])
    while True:
        if state.get("total_pages") is not None and number > state["total_pages"]:
            break
        if number > MAX_PAGES:
            raise client.fail(number, f"more than {MAX_PAGES:,} pages: the API never says it"
                              " is done (no totalPages/total_pages, no short or empty page)")
        # ORUK 1.0 and HSDS 3.0 number pages from 1; an API that numbers them from 0 says
        # so by answering ?page=1 with a page that is not the first (then page 0 is asked)
        params: dict[str, object] = {"page": number - 1 + state.get("first_page", 1)}
        if "per_page" not in given:
            params["per_page"] = options.per_page
        page_url = with_query(url, **params)
        file = pages_dir / f"{name}.p{number:05d}.json"
        part = file.with_name(f".{file.name}.part")
        parts = [part]
        try:
            page = _page(client.get_json(page_url, part, number))
            if page.items is None:
                raise client.fail(number, "the answer is not a page of services (no"
                                  " content/contents list): is this a /services address?",
                                  shown_url(page_url))
            items = page.items
            if number == 1 and page.first is False and "first_page" not in state:
                state["first_page"] = 0
                continue
            ids = [record_id(i) for i in items if isinstance(i, dict) and record_id(i)]
            repeated = [i for i in ids if i in seen]
            if ids and len(repeated) == len(ids) and number > 1:
                earlier = sorted({seen[i] for i in repeated})
                raise client.fail(number, (
                    f"every record on this page was already on page(s)"
                    f" {', '.join(map(str, earlier[:5]))}: the API does not seem to page with"
                    " ?page= (or its records moved while it was read); nothing was written"),
                    shown_url(page_url))
            full_file = None
            details = 0
            if options.full:
                wanted = [i for i in items if isinstance(i, dict) and record_id(i)
                          and lacks_detail(i)]
                records = []
                for item in wanted:
                    dpart = pages_dir / f".{name}.detail.part"
                    parts.append(dpart)
                    record = client.get_json(detail_url(url, record_id(item)), dpart, number)
                    if not isinstance(record, dict) or record_id(record) != record_id(item):
                        raise client.fail(number, (
                            f"the detail of service {record_id(item)!r} is not that service's"
                            " record"), shown_url(detail_url(url, record_id(item))))
                    records.append(record)
                    details += 1
                    if progress:
                        progress(len(state["pages"]), state.get("total_pages"),
                                 state["details"] + details)
                if records:
                    full_file = file.with_name(f"{name}.p{number:05d}.full.json")
                    _write_json(full_file, records)
            os.replace(part, file)
        finally:
            for leftover in parts:
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
        for record in ids:
            seen.setdefault(record, number)
        state["format"] = state.get("format") or fmt or page.format
        if page.total_pages is not None:
            state["total_pages"] = min(page.total_pages, MAX_PAGES)
        if page.total_items is not None:
            state["total_items"] = page.total_items
        state.setdefault("first_page", 1)
        if first_size is None:
            first_size = state["first_size"] = len(items)
        state["details"] += details
        state["pages"].append({"page": number, "file": file.name, "records": len(items),
                               "full_file": full_file.name if full_file else None,
                               "ids": ids, "at": _now()})
        state["updated"] = _now()
        _write_json(folder / MANIFEST, state)
        if progress:
            progress(len(state["pages"]), state.get("total_pages"), state["details"])
        if _done(page, items, number, first_size, state):
            break
        number += 1
    unique = len(seen)
    total = state.get("total_items")
    if total is not None and unique < total:
        state["restart"] = True  # resuming cannot mend this: the next run starts afresh
        raise client.fail(0, (
            f"the API says it has {total:,} services but its {len(state['pages'])} page(s)"
            f" held {unique:,} different ones (records moved between pages while it was"
            " read?); fetch again, or load the pages saved with --allow-partial"))
    state.update(complete=True, finished=_now(), updated=_now(), error="")
    _write_json(folder / MANIFEST, state)


def _done(page: _Page, items: list, number: int, first_size: int, state: dict) -> bool:
    """Whether the page just saved is the last one."""
    if not items:
        return True
    if page.last is not None:
        return page.last
    if state.get("total_pages") is not None:
        return number >= state["total_pages"]
    if state.get("total_items") is not None:
        return sum(p["records"] for p in state["pages"]) >= state["total_items"]
    return len(items) < first_size
