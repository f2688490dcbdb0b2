"""The HTML reports' templates: Jinja2, autoescaping every value, loaded from the package.

The templates are in ``pathways/reports/templates/``; each says in comments what each block is,
so a partnership can reword or restyle a report without touching Python.  They must stay
self-contained (inline CSS, no scripts, no external addresses): the reports are e-mailed.
"""

from __future__ import annotations

import functools

import jinja2


@functools.cache
def environment() -> jinja2.Environment:
    """One environment per process: autoescape on for every template, and a missing value is
    an error rather than a silent blank."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pathways.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(template: str, **values: object) -> str:
    """``template`` (a file name in ``templates/``) filled with ``values``, every one escaped."""
    return environment().get_template(template).render(**values)
