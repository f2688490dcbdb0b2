"""``pathways update-request ORG -o FILE`` and loading the returned workbook with
``pathways load``: an organisation named by name or id, an unknown one refused with a clear
message, and rows of another organisation refused by file, row and column."""

from __future__ import annotations

import json

import openpyxl
import pytest

from pathways.cli import main


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATHWAYS_STORE", "embedded")


def run(capsys, *args) -> tuple[int, str, str]:
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_update_request_by_name_round_trips_through_pathways_load(capsys, tmp_path):
    assert run(capsys, "demo")[0] == 0
    target = tmp_path / "out" / "artworks.xlsx"

    code, _, err = run(capsys, "update-request", "Artworks", "-o", target)

    assert code == 0, err
    assert "org-artworks" in err and str(target) in err
    book = openpyxl.load_workbook(target)
    assert [r[0].value for r in book["organisations"].iter_rows(min_row=2)] == ["org-artworks"]
    services = [r[0].value for r in book["services"].iter_rows(min_row=2)]
    assert services and all(s.startswith("svc-artworks") for s in services)

    header = [c.value for c in book["organisations"][1]]
    book["organisations"].cell(row=2, column=header.index("website") + 1).value = \
        "https://example.org/artworks-new"
    book.save(target)
    code, out, err = run(capsys, "load", target)
    assert code == 0, err
    assert "nodes: 0 new, 1 changed" in out
    code, out, _ = run(capsys, "list", "organisations", "--format", "json")
    shown = {o["id"]: o for o in json.loads(out)}
    assert shown["org-artworks"]["website"] == "https://example.org/artworks-new"


def test_a_returned_request_with_another_organisations_row_is_refused(capsys, tmp_path):
    run(capsys, "demo")
    target = tmp_path / "request.xlsx"
    assert run(capsys, "update-request", "org-artworks", "-o", target)[0] == 0
    book = openpyxl.load_workbook(target)
    header = [c.value for c in book["services"][1]]
    book["services"].append([{"id": "svc-calder-friends-befriending",
                              "name": "Taken over"}.get(h) for h in header])
    book.save(target)

    code, out, err = run(capsys, "load", target)

    assert code == 1
    assert "request.xlsx [services]" in err and "row" in err
    assert "org-artworks" in err and "svc-calder-friends-befriending" in err
    assert "nodes:" not in out


def test_an_unknown_organisation_is_refused_with_suggestions(capsys, tmp_path):
    run(capsys, "demo")
    code, _, err = run(capsys, "update-request", "Artwerks Studio Nowhere", "-o",
                       tmp_path / "x.xlsx")
    assert code == 1 and "Error" in err
    assert not (tmp_path / "x.xlsx").exists()
