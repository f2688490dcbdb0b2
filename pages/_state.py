"""State that travels: each page's filters live in its address (bookmark it, press Back, send
it to a colleague), and the filters pages share follow the person from page to page.

How a page uses it (``pages/gaps.py`` is the smallest example)::

    PATH = "/gaps"

    def layout(**query):                        # Dash pages pass the address's query here
        read = QueryReader(query, ("hops",))    # this page's own keys (shared ones are known)
        hops = read.number("hops", 1, MAX_MAX_HOPS, DEFAULT_MAX_HOPS, "Longest route")
        ...                                     # build the controls with the values read
        return html.Div([..., read.notes(), url_state(PATH, {"hops": hops}, query)])

    @callback(..., Output(state_id(PATH), "data"), Input("gp-hops", "value"), ...)
    def compute(hops):
        ...                                     # the applied filters, as the server checked them
        return ..., state_update(PATH, {"hops": hops})

1. **Read.**  Never trust the address: :class:`QueryReader` keeps only values the page can use
   (ids of nodes that exist, names matched to them, numbers in range) and says what it dropped
   in a visible note (``read.notes()``, role="status"), never an error.
2. **Write.**  ``url_state(PATH, state, query)`` in the layout writes the applied filters into the
   address when the page is shown (``history.replaceState``: a bad value disappears from it);
   each change applied by a callback (``state_update``) adds a history entry
   (``history.pushState``), so Back returns to the previous filters: the page is drawn again
   from the popped address by Dash's router (``assets/url_state.js`` makes sure it notices).
   ``state`` maps a key to ``str``, ``int``, ``bool`` (``True`` is written ``1``) or a list of
   strings; the order of keys and of list items is kept, so equal states give equal addresses.
3. **Shared.**  :data:`SHARED_KEYS` mean the same on every page; a page reads those it uses
   and ignores the others silently.  :data:`CARRIED_KEYS` (link worker, needs, localities,
   longest route) are remembered for the browser tab (a session ``dcc.Store``) and carried by
   the navigation links (:func:`nav_link`), so what was chosen on one page is there on the
   next; "free only" and access needs stay with their page.  ``places`` is a list; a page with
   one locality uses its first valid id.

Nothing about the person being referred goes into an address or the shared store (no
postcode, no name): only ids of things in the graph and filter values.
Dash's page registry skips modules whose name starts with an underscore: this is not a page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from dash import ALL, Input, Output, State, clientside_callback, ctx, dcc, html, no_update

# Filters every page understands the same way (ids, except free = "1" and hops a number).
SHARED_KEYS = ("worker", "needs", "places", "access", "free", "hops")
# The ones that follow the person to the next page.  Free-only and access needs stay with their
# page: on Pathways they are the person's, on Consortia the commissioner's opportunity.
CARRIED_KEYS = ("worker", "needs", "places", "hops")
SHARED_STORE = "shared-filters"
NAV_LINK = "nav-link"
URL_STATE = "url-state"
NOTES_ID = "url-notes"
_TRUE = {"1", "true", "yes", "on"}
_SHOWN = 60  # characters of a bad value quoted back in a note


def state_id(path: str) -> dict:
    """The id of a page's address state (one per page, so a late answer for a page that was
    left never writes into the next page's address)."""
    return {"type": URL_STATE, "path": path}


def encode(state: Mapping[str, object]) -> str:
    """The address query for ``state`` (``""`` when nothing is set).

    >>> encode({"needs": ["loneliness", "arts"], "free": True, "hops": 3, "access": []})
    '?needs=loneliness&needs=arts&free=1&hops=3'
    """
    pairs: list[tuple[str, str]] = []
    for key, value in state.items():
        if value is None or value is False or value == "":
            continue
        if value is True:
            pairs.append((key, "1"))
        elif isinstance(value, (list, tuple)):
            pairs += [(key, str(v)) for v in value]
        else:
            pairs.append((key, str(value)))
    return "?" + urlencode(pairs) if pairs else ""


def _shared(state: Mapping[str, object], keys: Iterable[str] = CARRIED_KEYS) -> dict[str, list[str]]:
    """The carried keys this page sets, each as the list of strings the address carries (an
    empty list clears the key for the next pages)."""
    out: dict[str, list[str]] = {}
    for key in CARRIED_KEYS:
        if key in state and key in keys:
            value = state[key]
            if value is None or value is False or value == "":
                out[key] = []
            elif value is True:
                out[key] = ["1"]
            elif isinstance(value, (list, tuple)):
                out[key] = [str(v) for v in value]
            else:
                out[key] = [str(value)]
    return out


def _data(path: str, state: Mapping[str, object], push: bool,
          carried: Iterable[str] = CARRIED_KEYS) -> dict:
    return {"path": path, "search": encode(state), "shared": _shared(state, set(carried)),
            "push": push}


def url_state(path: str, state: Mapping[str, object],
              query: Mapping[str, object] | None = None) -> dcc.Store:
    """Put in the page's layout: writes ``state`` (the filters the page shows) into the address
    when the page appears, replacing the address's own query (no new history entry).

    Of the carried keys, only those the address named (``query``, as given to ``layout``)
    go on to the next pages: a page's defaults, which nobody chose, never replace what was
    chosen elsewhere."""
    return dcc.Store(id=state_id(path), data=_data(path, state, push=False,
                                                   carried=(query or {}).keys()))


def state_update(path: str, state: Mapping[str, object]) -> Any:
    """Return as ``Output(state_id(path), "data")`` from the callback that applies the filters.
    A change the person made adds a history entry and carries the page's carried keys to the
    next pages.  The callback's first run (the page appearing) changes nothing: the layout's
    :func:`url_state` has written the address already (so Back never lands on the same
    filters twice), and what it carries must not be overwritten before it is read."""
    if ctx.triggered_id is None:
        return no_update
    return _data(path, state, push=True)


def _quoted(value: object) -> str:
    text = str(value)
    return f"“{text[:_SHOWN]}…”" if len(text) > _SHOWN else f"“{text}”"


class QueryReader:
    """The filters in a page's address, checked: every method returns a value the page can use
    (or its default) and records a plain-English note for anything it dropped.

    ``query`` is what Dash passes to ``layout(**query)``: a string per key, or a list of strings
    when the key is repeated.  ``keys`` are the page's own keys; the :data:`SHARED_KEYS` are
    known too (a page ignores those it does not use), any other key is noted and ignored.

    >>> read = QueryReader({"hops": "99", "needs": ["arts", "nope"], "x": "1"}, ("hops",))
    >>> read.number("hops", 1, 10, 4, "Longest route")
    4
    >>> read.choices("needs", {"arts": "Arts and creativity"}, [], "Need")
    ['arts']
    >>> read.messages  # doctest: +NORMALIZE_WHITESPACE
    ['“x” is not a setting of this page.',
     'Longest route “99” is not a whole number from 1 to 10: using 4.',
     'Need “nope” is not in the graph.']
    """

    def __init__(self, query: Mapping[str, object] | None, keys: Iterable[str] = ()):
        self._query = dict(query or {})
        known = set(keys) | set(SHARED_KEYS)
        self.messages: list[str] = [f"{_quoted(k)} is not a setting of this page."
                                    for k in self._query if k not in known]

    def _values(self, key: str) -> list[str]:
        value = self._query.get(key)
        if isinstance(value, str):
            values = [value]
        elif isinstance(value, list):
            values = [v for v in value if isinstance(v, str)]
        else:
            return []
        return [v.strip() for v in values if v.strip()]

    @staticmethod
    def _match(value: str, options: Mapping[str, str]) -> str | None:
        """An option's id: the id itself, else the one option whose name it is (any case)."""
        if value in options:
            return value
        folded = value.casefold()
        named = [i for i, name in options.items() if str(name).casefold() == folded]
        return named[0] if len(named) == 1 else None

    def choice(self, key: str, options: Mapping[str, str], default: str | None,
               label: str) -> str | None:
        """One id from ``options`` (id → name; a unique name is accepted too), else ``default``."""
        values = self._values(key)
        if not values:
            return default
        found = self._match(values[0], options)
        if found is None:
            self.messages.append(f"{label} {_quoted(values[0])} is not in the graph.")
            return default
        if len(values) > 1:
            self.messages.append(f"Only one {label.lower()} at a time: showing "
                                 f"{_quoted(options[found])}.")
        return found

    def choices(self, key: str, options: Mapping[str, str], default: list[str],
                label: str) -> list[str]:
        """Ids from ``options`` in the address's order, each once; ``default`` when the address
        names none (or none that exists)."""
        values = self._values(key)
        if not values:
            return list(default)
        found: list[str] = []
        for value in values:
            match = self._match(value, options)
            if match is None:
                self.messages.append(f"{label} {_quoted(value)} is not in the graph.")
            elif match not in found:
                found.append(match)
        return found or list(default)

    def number(self, key: str, low: int, high: int, default: int, label: str) -> int:
        """A whole number from ``low`` to ``high``, else ``default``."""
        values = self._values(key)
        if not values:
            return default
        text = values[0]
        if text.isascii() and text.isdigit() and low <= int(text) <= high:
            return int(text)
        self.messages.append(f"{label} {_quoted(text)} is not a whole number from {low} to "
                             f"{high}: using {default}.")
        return default

    def flag(self, key: str, label: str) -> bool:
        """A yes/no filter: ``1``, ``true``, ``yes`` or ``on`` mean yes; no value means no."""
        values = self._values(key)
        if not values:
            return False
        if values[0].casefold() in _TRUE or values[0].casefold() in {"0", "false", "no", "off"}:
            return values[0].casefold() in _TRUE
        self.messages.append(f"{label} {_quoted(values[0])} is not yes or no: left off.")
        return False

    def notes(self) -> html.Div:
        """What was dropped from the address, shown at the top of the page (empty if nothing)."""
        if not self.messages:
            return html.Div(id=NOTES_ID)
        return html.Div([html.P("Some settings in this page's address could not be used:"),
                         html.Ul([html.Li(m) for m in self.messages])],
                        id=NOTES_ID, className="url-notes", role="status")


# --- the shared filters and the navigation links ---------------------------------------------

def shared_store() -> dcc.Store:
    """The shared filters of this browser tab (put once in the app's layout)."""
    return dcc.Store(id=SHARED_STORE, storage_type="session")


def nav_link(page: Mapping) -> dcc.Link:
    """A navigation link to a registered page that carries the shared filters in its query."""
    return dcc.Link(page["name"], href=page["relative_path"], className="nav-link",
                    id={"type": NAV_LINK, "path": page["relative_path"]})


# The shown page's state → its address (assets/url_state.js) and the tab's shared filters.
clientside_callback(
    """function (states, shared) {
        const here = window.location.pathname;
        const state = (states || []).find(s => s && s.path === here);
        if (!state || !window.pathwaysUrlState) { return window.dash_clientside.no_update; }
        window.pathwaysUrlState.write(state.search, state.push);
        const next = Object.assign({}, shared || {});
        Object.entries(state.shared || {}).forEach(([key, values]) => {
            if (values.length) { next[key] = values; } else { delete next[key]; }
        });
        return next;
    }""",
    Output(SHARED_STORE, "data"),
    Input({"type": URL_STATE, "path": ALL}, "data"),
    State(SHARED_STORE, "data"),
)

# The shared filters → every navigation link's query.
clientside_callback(
    """function (shared) {
        const outputs = window.dash_clientside.callback_context.outputs_list.flat();
        const params = new URLSearchParams();
        Object.keys(shared || {}).sort().forEach(key => {
            (shared[key] || []).forEach(value => params.append(key, value));
        });
        const query = params.toString();
        return outputs.map(o => o.id.path + (query ? "?" + query : ""));
    }""",
    Output({"type": NAV_LINK, "path": ALL}, "href"),
    Input(SHARED_STORE, "data"),
)
