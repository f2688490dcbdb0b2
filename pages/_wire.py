"""Callback outputs made ready for the fast JSON encoder, and cached per data version.

Dash writes every callback's answer with Plotly's encoder (``plotly.io.json.to_json_plotly``).
That first tries ``orjson.dumps`` on the answer as it is; when anything in it is not plain
JSON (a Dash component such as ``html.P``, a ``go.Figure``), orjson refuses the whole answer
and Plotly walks every value of it in Python (``clean_to_json_compatible``) before trying
again.  For the Gaps page at 100k nodes (38,000 table rows, 5.7 MB) that walk was 0.5 s of
CPU per request, more than computing the page's rows.  :func:`wire` turns components and
figures into the dicts they are sent as (the same JSON, byte for byte), so orjson takes the
answer in one pass.

:func:`page_outputs` keeps a page's outputs per data version (built once, then every
visitor's request only encodes them), as the analyses are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from pathways.analysis.snapshot import cached_per_version

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., object])


def wire(value: Any) -> Any:
    """``value`` with every Dash component and Plotly figure in it replaced by the plain
    dicts and lists Dash would send for it (``to_plotly_json``, applied all the way down).

    >>> from dash import html
    >>> wire([html.P(["a", html.B("b")])])[0]["props"]["children"][1]
    {'props': {'children': 'b'}, 'type': 'B', 'namespace': 'dash_html_components'}
    """
    to_json = getattr(value, "to_plotly_json", None)
    if to_json is not None and not isinstance(value, type):
        return wire(to_json())
    if isinstance(value, dict):
        return {key: wire(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire(item) for item in value]
    return value


def page_outputs(store: Any, what: Hashable, build: Callable[[], T]) -> T:
    """``build()``'s outputs, made plain by :func:`wire`, once per data version and ``what``
    (the page and the inputs they depend on).  They are shared by every request: never
    modify them."""
    return cached_per_version(store, ("page outputs", what), lambda: wire(build()))


_WARM: list[Callable[..., object]] = []


def warm_on_start(build: F) -> F:
    """Register ``build(store)`` (a page's default outputs through :func:`page_outputs`) to
    be run by :func:`warm_pages`."""
    _WARM.append(build)
    return build


def warm_pages(store: Any) -> None:
    """Build every registered page's default outputs now: ``pathways serve --workers N``
    calls this in the master before forking (pathways/cli/workers.py), so the workers share
    one copy and nobody's first visit builds them."""
    for build in _WARM:
        build(store)
