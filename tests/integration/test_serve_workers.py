"""``pathways serve --workers 2`` as a real server (gunicorn, two worker processes): both
workers give the same answers as the analysis itself, both answer from a new load as soon
as it lands (no restart), and sign-in sessions, CSRF tokens and share links work whichever
worker a request reaches.

Which worker answered is read from gunicorn's access log (``GUNICORN_CMD_ARGS``: the
worker's pid on every line); each request opens a new connection, so the kernel hands
requests to both workers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from benchmarks.generate import generate, write
from pathways.accounts import Accounts
from pathways.analysis.pathways import pathways_from
from pathways.analysis.snapshot import link_workers
from pathways.store.embedded import EmbeddedStore
from tests.integration.served import PATHWAYS, WorkersServer

PASSWORD = "a long enough password"
CALLBACK = "/_dash-update-component"


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> tuple[Path, Path]:
    """One small generated graph twice: every name starts "v1 " in one, "v2 " in the other."""
    base = tmp_path_factory.mktemp("serve-versions")
    tables = generate(400, seed=23)
    for version in ("v1", "v2"):
        for rows in tables.values():
            for row in rows:
                if row.get("name"):
                    row["name"] = f"{version} {row['name'].removeprefix('v1 ')}"
        write(tables, base / version)
    return base / "v1", base / "v2"


class Site(WorkersServer):
    """A running ``pathways serve --workers 2`` and what the test needs to talk to it."""

    def __init__(self, env: dict, store, folder: Path) -> None:
        super().__init__(env, folder)
        self.store, self.folder = store, folder

    def load(self, data: Path) -> None:
        done = subprocess.run([str(PATHWAYS), "load", str(data)], env=self.env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    def problems(self) -> str:
        """The server's output, from its first error on (for a failing assertion)."""
        text = self.output.read_text()
        at = text.find("Traceback")
        return text[at - 300 if at > 300 else 0:][:6000]

    def workers_since(self, seen: int, expected: int) -> set[int]:
        """Pids of the workers that answered the callback requests after the first ``seen``
        log lines (waiting for the ``expected`` lines to be written)."""
        deadline = time.monotonic() + 10
        while len(self.log_lines()) < seen + expected and time.monotonic() < deadline:
            time.sleep(0.1)
        return {pid for pid, method, path, _ in self.log_lines()[seen:]
                if method == "POST" and path == CALLBACK}


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def site(request, tmp_path, versions):
    """The v1 graph loaded, accounts for a link worker and an editor, the server running."""
    env = dict(os.environ, PATHWAYS_HOME=str(tmp_path / "home"), PATHWAYS_STORE=request.param)
    env.pop("PATHWAYS_TRUSTED_HEADERS", None)
    env.pop("GUNICORN_CMD_ARGS", None)
    if request.param == "embedded":
        store = EmbeddedStore(tmp_path / "home" / "graph.json")
    else:
        store = request.getfixturevalue("neo4j_store")
        settings = request.getfixturevalue("neo4j_settings")
        env.update(NEO4J_URI=settings.uri, NEO4J_USER=settings.user,
                   NEO4J_PASSWORD=settings.password, NEO4J_DATABASE=settings.database)
    running = Site(env, store, tmp_path)
    running.load(versions[0])
    accounts = Accounts(tmp_path / "home" / "accounts.json")
    accounts.add("lin", "link-worker", PASSWORD)
    accounts.add("eddie", "editor", PASSWORD)
    running.start()
    yield running
    running.stop()


def signed_in(site: Site, name: str) -> requests.Session:
    """A browser that filled in the sign-in form: it sends the session's CSRF token with
    every request, as dash-renderer does from the ``_csrf_token`` cookie."""
    session = requests.Session()
    form = session.get(f"{site.base}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, form[:500]
    answer = session.post(f"{site.base}/login", timeout=30, allow_redirects=False,
                          data={"name": name, "password": PASSWORD, "next": "/",
                                "csrf_token": token[1]})
    assert answer.status_code == 302, answer.text[:500]
    session.headers["X-CSRFToken"] = session.cookies["_csrf_token"] or ""
    return session


def callback_body(session: requests.Session, site: Site, output: str, values: dict) -> dict:
    """The request dash-renderer sends for the callback that writes ``output``; every input
    and state takes its value from ``values`` ("id.property"), missing ones None."""
    deps = session.get(f"{site.base}/_dash-dependencies", timeout=30).json()
    dep = next(d for d in deps if output in d["output"].strip(".").split("..."))

    def values_of(items):
        return [{**item, "value": values.get(f"{item['id']}.{item['property']}")}
                for item in items]

    parts = [p.rsplit(".", 1) for p in dep["output"].strip(".").split("...")]
    # an id written as JSON (the pages' address-state stores) is sent as the object itself
    outputs = [{"id": json.loads(i) if i.startswith("{") else i, "property": p}
               for i, p in parts]
    return {"output": dep["output"],
            "outputs": outputs if dep["output"].startswith("..") else outputs[0],
            "inputs": values_of(dep["inputs"]), "state": values_of(dep.get("state", [])),
            "changedPropIds": [next(iter(values))]}


def ask_many(session: requests.Session, site: Site, body: dict, times: int = 24,
             csrf: bool = True) -> list[tuple[int, str]]:
    """POST the same callback ``times`` times, six at once, each on a new connection
    (so both workers get some); (status, text) of each."""
    headers = {"Connection": "close"}
    if not csrf:
        headers["X-CSRFToken"] = ""

    def one(_):
        answer = session.post(f"{site.base}{CALLBACK}", json=body, headers=headers, timeout=60)
        return answer.status_code, answer.text

    with ThreadPoolExecutor(6) as pool:
        return list(pool.map(one, range(times)))


def until_both_workers(session, site, body, times=24, csrf=True):
    """Ask until both workers have answered (at most 8 rounds): (answers, worker pids)."""
    answers: list[tuple[int, str]] = []
    seen = len(site.log_lines())
    pids: set[int] = set()
    for _ in range(8):
        answers += ask_many(session, site, body, times, csrf)
        pids = site.workers_since(seen, len(answers))
        if len(pids) >= 2:
            break
    return answers, pids


def pathways_question(store, version: str) -> tuple[str, list[str]]:
    """A link worker with several reachable activities, and their names, by the analysis."""
    from pathways.analysis.snapshot import cached_snapshot

    for worker in link_workers(cached_snapshot(store)):
        names = [a["name"] for a in pathways_from(store, worker)["activities"]]
        if len(names) >= 3:
            assert all(n.startswith(f"{version} ") for n in names)
            return worker, names
    raise AssertionError("no link worker reaches three activities in the generated graph")


FORM: dict[str, object] = {"pw-needs.value": [], "pw-locality.value": None, "pw-free.value": [],
        "pw-access.value": [], "pw-hops.value": 4}


def test_two_workers_answer_alike_and_both_see_a_new_load_at_once(site, versions):
    """On each store: every answer to one question, from either worker, is the same and
    lists the activities the analysis finds; after `pathways load` returns, every answer
    from either worker is from the new data, and the server was not restarted."""
    lin = signed_in(site, "lin")
    worker, names = pathways_question(site.store, "v1")
    body = callback_body(lin, site, "pw-message.children", {"pw-worker.value": worker, **FORM})

    answers, pids = until_both_workers(lin, site, body)
    assert len(pids) == 2, f"only workers {pids} answered"
    assert {status for status, _ in answers} == {200}, site.problems()
    assert len({text for _, text in answers}) == 1  # the same answer from both workers
    text = answers[0][1]
    assert all(name in text for name in names) and "v2 " not in text

    site.load(versions[1])  # a new data version, while the server runs
    new_worker, new_names = pathways_question(site.store, "v2")
    assert new_worker == worker and len(new_names) == len(names)
    answers, pids = until_both_workers(lin, site, body)
    assert len(pids) == 2, f"only workers {pids} answered after the load"
    assert {status for status, _ in answers} == {200}, site.problems()
    for _, text in answers:
        assert all(name in text for name in new_names) and "v1 " not in text
    assert site.server is not None and site.server.poll() is None  # the same server throughout


@pytest.mark.parametrize("site", ["embedded"], indirect=True)
def test_sessions_csrf_and_share_links_work_on_every_worker(site):
    """Signed in through one worker, a person is signed in on all of them; a callback without
    the session's CSRF token is refused by all of them; a share link made on one opens its
    view on all of them (the secret they are signed with is one, under PATHWAYS_HOME)."""
    worker, names = pathways_question(site.store, "v1")
    eddie = signed_in(site, "eddie")
    body = callback_body(eddie, site, "pw-message.children", {"pw-worker.value": worker, **FORM})
    answers, pids = until_both_workers(eddie, site, body)
    assert len(pids) == 2 and {status for status, _ in answers} == {200}
    assert all(name in answers[0][1] for name in names)

    refused, pids = until_both_workers(eddie, site, body, csrf=False)
    assert len(pids) == 2 and {status for status, _ in refused} == {400}
    assert all("security token is missing or wrong" in text for _, text in refused)
    assert all(name not in text for _, text in refused for name in names)

    make = callback_body(eddie, site, "share-result.children",
                         {"share-view.data": {"view": f"/?worker={worker}&hops=4", "clicks": 1},
                          "share-days.value": 7})
    made = eddie.post(f"{site.base}{CALLBACK}", json=make, timeout=60)
    assert made.status_code == 200, made.text[:500]
    # (Dash writes "/" as "\u002f" in its JSON: read it back)
    address = re.search(r"/s/[A-Za-z0-9._-]+", json.dumps(made.json()))
    assert address, made.text[:500]

    visitor = requests.Session()
    opened = visitor.get(f"{site.base}{address[0]}", allow_redirects=False, timeout=30)
    assert opened.status_code == 302 and opened.headers["Location"].startswith("/?worker=")
    assert visitor.get(f"{site.base}{opened.headers['Location']}", timeout=30).status_code == 200
    visitor.headers["X-CSRFToken"] = visitor.cookies["_csrf_token"] or ""
    answers, pids = until_both_workers(visitor, site, body)
    assert len(pids) == 2 and {status for status, _ in answers} == {200}
    assert all(name in answers[0][1] for name in names)
