"""The HTML reports come from autoescaping templates: names from partners' files are text.

A name is whatever a partner typed into the Living Database or a feed; the gap report and the
consortium summary are e-mailed and opened in a browser, so a name holding markup must show
as those characters and never become part of the page.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil

import pytest

from pathways.analysis.consortia import Opportunity, consortia
from pathways.analysis.gaps import GapQuery, gap_report
from pathways.loading import demo_data_dir, load_paths
from pathways.reports.render_consortia import as_html_summary
from pathways.reports.render_gaps import as_html

SCRIPT = "<script>alert('x')</script>"
IMAGE = '<img src=x onerror="alert(1)">'
# Demo records renamed with markup: an organisation that provides activities, one with no
# referral route in (both in the gap report's tables) and a locality (a column of the grid).
RENAMED = {("organisations.csv", "org-artworks"): "Artworks " + SCRIPT,
           ("organisations.csv", "org-valley-makers-shed"): "Valley Makers Shed " + SCRIPT,
           ("localities.csv", "loc-todmorden"): "Todmorden " + IMAGE}


@pytest.fixture
def marked_up(tmp_path, embedded_store):
    folder = tmp_path / "data"
    shutil.copytree(demo_data_dir(), folder)
    for (name, node_id), new_name in RENAMED.items():
        path = folder / name
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert any(r["id"] == node_id for r in rows)
        for row in rows:
            if row["id"] == node_id:
                row["name"] = new_name
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    load_paths(embedded_store, [folder])
    return embedded_store


def _markup_is_text(page: str) -> None:
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)


def test_gap_report_shows_names_with_markup_as_text(marked_up):
    page = as_html(gap_report(marked_up, GapQuery(as_of=dt.date(2026, 11, 29))))
    _markup_is_text(page)
    assert "Valley Makers Shed &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "Todmorden &lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert page.lower().startswith("<!doctype html>") and page.rstrip().endswith("</html>")


def test_consortium_summary_shows_names_with_markup_as_text(marked_up):
    report = consortia(marked_up, Opportunity(needs=("loneliness",),
                                              localities=("loc-todmorden", "loc-north-halifax")))
    members = [m["name"] for m in report["suggestions"][0]["members"]]
    assert "Artworks " + SCRIPT in members  # the renamed organisation is the suggestion
    page = as_html_summary(report, 0)
    _markup_is_text(page)
    assert "Artworks &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "Todmorden &lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
