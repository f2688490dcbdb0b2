"""CSV exports never carry a live spreadsheet formula (OWASP "CSV injection").

A name, schedule or cost that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return would run as a formula when a data officer opens the export in Excel or LibreOffice.
Every CSV the CLI writes goes through :func:`pathways.spreadsheet.excel_safe`, which prefixes
such text cells with a single quote; real numbers stay numbers.
"""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from pathways.cli import cli
from pathways.spreadsheet import FORMULA_START, excel_safe, to_csv
from tests.conftest import write_folder

EVIL_ORG = '=HYPERLINK("http://evil","x")'
EVIL_NEED = "=cmd|' /C calc'!A0"
# Every data-derived string a user might export, each starting with a formula character.
HOSTILE = {
    "people": [["id", "name", "role", "job_title", "phone", "email"],
               ["lw", "Lee Walker", "link_worker", "@SUM(A1)", "+44 1422 000001",
                "lee@example.org"]],
    "organisations": [["id", "name", "kind"], ["org", EVIL_ORG, "cultural"]],
    "services": [["id", "name"], ["svc", "+1"]],
    "activities": [["id", "name", "free", "cost", "schedule"],
                   ["art", "-2+3", "no", "=1+1", "@SUM(A1)"]],
    "needs": [["id", "name"], ["need", EVIL_NEED]],
    "localities": [["id", "name"], ["loc", "@Town"]],
    "relationships": [["source_id", "type", "target_id"],
                      ["lw", "REFERS_TO", "svc"], ["org", "PROVIDES", "svc"],
                      ["svc", "OFFERS", "art"], ["art", "ADDRESSES", "need"],
                      ["art", "LOCATED_IN", "loc"], ["lw", "COVERS", "loc"]],
}


def live_formulas(text: str) -> list[str]:
    """Cells a spreadsheet would evaluate: text starting with a formula character that is
    not simply a number (a negative number is harmless)."""
    found = []
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
        for cell in row:
            if not cell.startswith(FORMULA_START):
                continue
            try:
                float(cell)
            except ValueError:
                found.append(cell)
    return found


# ---- the one function ----------------------------------------------------------------------
@pytest.mark.parametrize("text", [EVIL_ORG, "+1", "-2+3", "-1+1", "@SUM(A1)", "\t=1+1",
                                  "\r=1+1", "=", "+44 1422 000001"])
def test_excel_safe_prefixes_formula_text_with_a_quote(text):
    assert excel_safe(text) == "'" + text


@pytest.mark.parametrize("value", [-1, -2.5, 0, 42, 3.75, "Art Club", "", "a=b", "1+1",
                                   "'=already quoted", None, True])
def test_excel_safe_leaves_numbers_and_plain_text_alone(value):
    assert excel_safe(value) == value


def test_to_csv_neutralises_text_but_keeps_negative_numbers():
    rows = [{"name": "-2+3", "value": -2, "note": "@SUM(A1)", "tags": ["=1", "b"]}]
    out = list(csv.reader(io.StringIO(to_csv(rows, ["name", "value", "note", "tags"]))))
    assert out[1] == ["'-2+3", "-2", "'@SUM(A1)", "'=1; b"]


# ---- every CLI export ------------------------------------------------------------------------
@pytest.fixture
def hostile(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATHWAYS_STORE", "embedded")
    result = CliRunner().invoke(cli, ["load", str(write_folder(tmp_path / "data", HOSTILE))])
    assert result.exit_code == 0, result.output


EXPORTS = {
    "list organisations": ["list", "organisations", "--format", "csv"],
    "list people with contacts": ["list", "people", "--contacts", "--format", "csv"],
    "list activities": ["list", "activities", "--format", "csv"],
    "paths": ["paths", "--from", "lw", "--format", "csv"],
    "gaps": ["gaps", "--format", "csv"],
    "consortia": ["consortia", "--need", "need", "--locality", "loc", "--format", "csv"],
}
EXPECTED = {  # a neutralised cell each export must contain
    "list organisations": "'" + EVIL_ORG,
    "list people with contacts": "'+44 1422 000001",
    "list activities": "'-2+3",
    "paths": "'" + EVIL_ORG,
    "gaps": "'" + EVIL_NEED + " in @Town",
    "consortia": "'" + EVIL_ORG,
}


@pytest.mark.parametrize("name", list(EXPORTS))
def test_cli_csv_on_stdout_has_no_live_formula(hostile, name):
    result = CliRunner().invoke(cli, EXPORTS[name])
    assert result.exit_code == 0, result.output
    assert live_formulas(result.stdout) == []
    cells = {c for row in csv.reader(io.StringIO(result.stdout)) for c in row}
    assert EXPECTED[name] in cells


@pytest.mark.parametrize("name", list(EXPORTS))
def test_cli_csv_file_has_no_live_formula(hostile, tmp_path, name):
    out = tmp_path / "export.csv"
    result = CliRunner().invoke(cli, EXPORTS[name] + ["-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8-sig")
    assert live_formulas(text) == []
    assert EXPECTED[name] in {c for row in csv.reader(io.StringIO(text)) for c in row}


def test_paths_csv_keeps_hops_a_number(hostile):
    result = CliRunner().invoke(cli, EXPORTS["paths"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["hops"] == "2"
    assert rows[0]["activity"] == "'-2+3" and rows[0]["schedule"] == "'@SUM(A1)"


# ---- the loader's own reports ----------------------------------------------------------------
def test_rejected_rows_report_has_no_live_formula(tmp_path, monkeypatch):
    from pathways.loading import load_paths
    from pathways.store.embedded import EmbeddedStore

    folder = tmp_path / "data"
    # A valid row to load, and a bad one whose cells (and so the reason) start with "=".
    write_folder(folder, {"organisations": [["id", "name", "kind"],
                                            ["org", EVIL_ORG, "cultural"],
                                            ["bad", "=2+2", "=not-a-kind"]]})
    report = tmp_path / "rejected.csv"
    monkeypatch.chdir(tmp_path)  # a path given as typed: "=2+2" names no file here
    result = load_paths(EmbeddedStore(tmp_path / "graph.json"), ["data", "=2+2"],
                        allow_partial=True, report=report)
    assert result.rejected, "the bad row must be rejected"
    text = report.read_text(encoding="utf-8-sig")
    assert "=not-a-kind" in text and "=2+2" in text  # the bad value and path are named...
    assert live_formulas(text) == []  # ...but no cell would run as a formula


def test_feed_quality_report_has_no_live_formula(tmp_path):
    from loaders.quality import QualityReport

    report = QualityReport()
    report.add("=oruk:service:1", "@name", "repaired", "=rule", '=HYPERLINK("http://evil")')
    out = report.write_csv(tmp_path / "quality.csv")
    text = out.read_text(encoding="utf-8-sig")
    assert "HYPERLINK" in text
    assert live_formulas(text) == []
