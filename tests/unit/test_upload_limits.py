"""What the Data page's upload keeps, and what it refuses before anything is read
(:func:`pathways.changes.keep_upload`): kinds of file, names, sizes, and tokens sent back."""

from __future__ import annotations

import io
import os
import time
import zipfile

import pytest

from pathways import changes
from pathways.changes import (
    MB,
    apply_upload,
    discard_upload,
    keep_upload,
    upload_names,
    upload_root,
)
from pathways.errors import InputError, PathwaysError


@pytest.fixture(autouse=True)
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHWAYS_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def reasons(exc: pytest.ExceptionInfo) -> dict[str, str]:
    return {p.file: p.reason for p in exc.value.problems}


def kept(uploads) -> list[str]:
    return sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []


def test_a_kept_upload_is_its_files_under_a_random_token(uploads):
    token = keep_upload([("people.csv", b"id,name,role\n"), ("organisations.csv", b"id\n")])
    other = keep_upload([("people.csv", b"id,name,role\n")])
    assert token != other and len(token) >= 20
    assert upload_names(token) == ["organisations.csv", "people.csv"]
    discard_upload(token)
    assert kept(uploads) == [other]


@pytest.mark.parametrize("name", ["people.xls", "graph.exe", "notes.txt", "people", "data.tar.gz"])
def test_files_of_other_kinds_are_refused_and_nothing_is_kept(uploads, name):
    with pytest.raises(InputError) as refused:
        keep_upload([("people.csv", b"id\n"), (name, b"x")])
    assert "not a file that can be loaded here" in reasons(refused)[name]
    assert kept(uploads) == []


@pytest.mark.parametrize("name", ["../people.csv", "/etc/people.csv", "a/b.csv", ".hidden.csv",
                                  "people\x00.csv"])
def test_names_that_are_not_plain_file_names_are_refused(uploads, name):
    with pytest.raises(InputError) as refused:
        keep_upload([(name, b"id\n")])
    assert "file name may use only" in next(iter(reasons(refused).values()))
    assert kept(uploads) == []


def test_a_file_over_the_size_limit_is_refused(uploads, monkeypatch):
    monkeypatch.setattr(changes, "MAX_UPLOAD_FILE_MB", 0.5)
    with pytest.raises(InputError) as refused:
        keep_upload([("people.csv", b"x" * int(0.6 * MB)), ("needs.csv", b"id,name\n")])
    assert "at most 0.5 MB" in reasons(refused)["people.csv"]
    assert "needs.csv" not in reasons(refused)
    assert kept(uploads) == []


def test_files_over_the_total_limit_together_are_refused(uploads, monkeypatch):
    monkeypatch.setattr(changes, "MAX_UPLOAD_TOTAL_MB", 1.0)
    files = [(f"{t}.csv", b"x" * int(0.4 * MB)) for t in ("people", "needs", "services")]
    with pytest.raises(InputError) as refused:
        keep_upload(files)
    assert "at most 1 MB in all" in reasons(refused)["(upload)"]
    assert kept(uploads) == []


def test_twice_the_same_name_or_a_mix_of_feed_and_living_database_is_refused(uploads):
    with pytest.raises(InputError) as twice:
        keep_upload([("people.csv", b"id\n"), ("People.csv", b"id\n")])
    assert "uploaded twice" in reasons(twice)["People.csv"]
    with pytest.raises(InputError) as mixed:
        keep_upload([("people.csv", b"id\n"), ("services.json", b"[]")])
    assert "one kind at a time" in reasons(mixed)["(upload)"]
    with pytest.raises(InputError):
        keep_upload([])
    assert kept(uploads) == []


@pytest.mark.parametrize("token", ["../../etc", "", None, 42, ["x"], "a" * 30])
def test_a_token_that_is_not_a_kept_upload_is_refused(token, tmp_path):
    from pathways.store.embedded import EmbeddedStore

    with pytest.raises(PathwaysError, match="upload the files again"):
        apply_upload(EmbeddedStore(tmp_path / "g.json"), token)


def test_old_uploads_are_cleaned_up(uploads):
    old = keep_upload([("people.csv", b"id\n")])
    hour_ago = time.time() - changes.UPLOAD_LIFETIME - 60
    os.utime(uploads / old, (hour_ago, hour_ago))
    new = keep_upload([("people.csv", b"id\n")])
    assert kept(uploads) == [new]


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_zip_on_its_own_is_kept_as_the_files_it_holds(uploads):
    token = keep_upload([("feed.zip", zipped({"feed/datapackage.json": b"{}",
                                               "feed/services.csv": b"id\n",
                                               "__MACOSX/feed/._services.csv": b"x"}))])
    assert upload_names(token) == ["datapackage.json", "services.csv"]


def test_a_zip_unpacking_past_the_limits_or_holding_other_kinds_is_refused(uploads, monkeypatch):
    monkeypatch.setattr(changes, "MAX_UPLOAD_TOTAL_MB", 1.0)
    bomb = zipped({"people.csv": b"0" * (3 * MB)})  # a few KB that unpack to 3 MB
    assert len(bomb) < MB
    with pytest.raises(InputError) as refused:
        keep_upload([("bomb.zip", bomb)])
    assert "unpacks to more than 1 MB" in reasons(refused)["bomb.zip"]
    with pytest.raises(InputError) as other:
        keep_upload([("tools.zip", zipped({"run.exe": b"MZ"}))])
    assert "not a file that can be loaded here" in reasons(other)["run.exe"]
    with pytest.raises(InputError) as mixed:
        keep_upload([("feed.zip", zipped({"a.json": b"[]"})), ("people.csv", b"id\n")])
    assert "on its own" in reasons(mixed)["feed.zip"]
    with pytest.raises(InputError, match="not a zip file"):
        keep_upload([("broken.zip", b"PK not really")])
    assert kept(uploads) == []


def test_uploads_are_kept_in_the_data_directory_private_to_the_app(tmp_path, monkeypatch):
    monkeypatch.delenv("PATHWAYS_UPLOAD_DIR", raising=False)
    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "uploads").mkdir(parents=True, mode=0o777)  # made open beforehand
    (tmp_path / "home" / "uploads").chmod(0o777)
    root = upload_root()
    assert root == tmp_path / "home" / "uploads"
    assert root.stat().st_mode & 0o777 == 0o700
