"""Accessibility and small-screen checks for the browser tests (axe-core in the page itself).

axe-core comes from npm (``package.json`` pins it; ``make setup`` runs ``npm ci``), is injected
into the page under test and run there, so the rules are the ones Deque ships for WCAG 2.2 AA,
not a re-implementation.  Only what a person would be stopped by fails a test: ``serious`` and
``critical`` findings.
"""

from __future__ import annotations

import time
from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")

_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})
   .then(r => done(r.violations))
   .catch(e => done({error: String(e)}));
"""


def axe_violations(driver, impacts=BLOCKING) -> list[dict]:
    """The page's axe-core violations of the given impacts, each ``{id, impact, help, targets}``."""
    if not AXE_JS.exists():
        raise FileNotFoundError(f"{AXE_JS} is missing: run `make setup` (npm ci installs axe-core)")
    if not driver.execute_script("return typeof axe !== 'undefined'"):
        driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
    found = driver.execute_async_script(_RUN, WCAG_TAGS)
    if isinstance(found, dict) and "error" in found:
        raise RuntimeError(f"axe-core failed in the page: {found['error']}")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "targets": [n["target"] for n in v["nodes"]][:5]}
        for v in found
        if v["impact"] in impacts
    ]


def describe(violations: list[dict]) -> str:
    """One line per finding, for an assertion message a developer can act on."""
    return "\n".join(f"[{v['impact']}] {v['id']}: {v['help']} at {v['targets']}" for v in violations)


def horizontal_overflow(driver) -> int:
    """How many CSS pixels the page is wider than the window (0 = no sideways scrolling).

    Measured against the document's client width, not ``window.innerWidth``: on a phone (or
    Chrome's mobile emulation) the layout viewport grows to fit content that is too wide, so
    innerWidth grows with it and a page 600 px wide would pass as "no overflow"."""
    return int(driver.execute_script(
        "const d = document.documentElement; return Math.max(0, d.scrollWidth - d.clientWidth)"
    ))


def overflowing(driver) -> list[str]:
    """The first few elements reaching past the window's right edge, for a failure message."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('body *')).filter(e => "
        "e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
        ".slice(0, 5).map(e => e.id || e.className || e.tagName)")


def settled_overflow(driver, timeout: float = 10) -> int:
    """``horizontal_overflow`` once the page has had up to ``timeout`` seconds to reflow after
    a change of width (Plotly and Cytoscape redraw for the new width on a debounced resize
    event, so the first measurement after a resize can still see the wide layout)."""
    deadline = time.monotonic() + timeout
    while horizontal_overflow(driver) and time.monotonic() < deadline:
        time.sleep(0.2)
    return horizontal_overflow(driver)
