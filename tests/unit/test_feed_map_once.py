"""A feed load reads and maps the feed once, asking the store about the ids it may write
beforehand (``candidate_ids``), and partnership keywords become need rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders import feed_mapping
from loaders.feeds import candidate_ids, plan_feed, read_feed
from loaders.need_rules import infer_needs, load_rules, partnership_rules
from pathways.loading import load_feed
from tests.conftest import HSDS_EXAMPLES

ORUK = Path(__file__).parents[1] / "fixtures" / "oruk"
COUNCIL = Path(__file__).parents[2].parent / "shared" / "fixtures" / "oruk-council-sample"
FEEDS = [([ORUK / "service_full.json"], "oruk"), ([HSDS_EXAMPLES / "csv"], "hsds"),
         ([HSDS_EXAMPLES / "json"], "hsds"),
         ([COUNCIL / "bristol-services-sample.json"], "oruk")]


@pytest.mark.parametrize(("paths", "fmt"), FEEDS)
def test_the_ids_asked_about_before_mapping_cover_every_id_the_mapping_writes(paths, fmt):
    feed, _report = read_feed(paths, fmt)
    plan, _ = plan_feed(paths, fmt, {})
    written = {n.id for n in plan.nodes} | {r.target_id for r in plan.rels}
    assert written <= candidate_ids(feed)


def test_a_feed_load_maps_the_feed_once(embedded_store, monkeypatch):
    calls = []
    real = feed_mapping.Mapper.plan

    def counted(self):
        calls.append(self.feed.namespace)
        return real(self)

    monkeypatch.setattr(feed_mapping.Mapper, "plan", counted)
    result = load_feed(embedded_store, [COUNCIL / "bristol-services-sample.json"], "oruk")
    assert calls == ["oruk"]
    assert result.summary.nodes_new > 0


def test_partnership_keywords_count_and_not_phrases_block():
    rules = load_rules() + partnership_rules([
        {"id": "debt", "keywords": "Debt advice; money worr*; not debt collection agency"}])
    found = {f.need: f.evidence for f in infer_needs(
        [("description", "Money worries? Free debt advice.")], rules)}
    assert found["debt"] == "money worries"
    wide = load_rules() + partnership_rules([{"id": "debt", "keywords": "debt*; not debt collection"}])
    assert [f.evidence for f in infer_needs([("d", "Help with debts.")], wide, needs={"debt"})] \
        == ["debts"]
    assert infer_needs([("d", "A debt collection agency.")], wide, needs={"debt"}) == []


def test_pathways_load_says_which_links_a_newer_feed_and_a_veto_removed(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from pathways.cli import cli
    from tests.conftest import write_folder

    monkeypatch.setenv("PATHWAYS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATHWAYS_STORE", "embedded")

    def feed(folder: str, terms: list[str], text: str = "") -> Path:
        path = tmp_path / folder / "services.json"
        path.parent.mkdir()
        path.write_text(json.dumps([{"id": "1", "name": "Club", "description": text,
                                     "service_taxonomys": [{"taxonomy": {"name": t}}
                                                           for t in terms]}]), encoding="utf-8")
        return path

    def load(*paths) -> str:
        result = CliRunner().invoke(cli, ["load", *map(str, paths)])
        assert result.exit_code == 0, result.output
        return result.output

    load(feed("v1", ["Mental Health", "Arts and Crafts"]))
    out = load(feed("v2", ["Gardening"], "A befriending club."))  # no need from its terms now
    assert "Removed 2 link(s) the feed no longer gives: ADDRESSES 2." in out
    veto = write_folder(tmp_path / "veto", {"relationships": [
        ["source_id", "type", "target_id"], ["oruk:service:1", "DOES_NOT_ADDRESS", "loneliness"]]})
    out = load(veto)
    assert "Removed 1 link(s) to needs your DOES_NOT_ADDRESS rows veto: ADDRESSES 1." in out


def test_only_a_persons_addresses_is_kept_from_the_feed_not_another_feed_files(tmp_path):
    import json

    from loaders.feeds import map_feed
    from pathways.model import RelType

    path = tmp_path / "services.json"
    path.write_text(json.dumps([{"id": "1", "name": "Club", "description": "A befriending club",
                                 "service_at_locations": [{"id": "s1"}]}]), encoding="utf-8")
    activity = "oruk:service_at_location:s1"

    def mapped(source: str) -> set:
        feed, report = read_feed([path], "oruk")
        links = [(activity, RelType.ADDRESSES, "loneliness", {"source": source})]
        plan = map_feed(feed, report, {}, links=links)
        return {(r.source_id, r.target_id) for r in plan.rels if r.type == RelType.ADDRESSES}

    assert (activity, "loneliness") not in mapped("relationships.csv")  # a person's: kept as is
    assert (activity, "loneliness") in mapped("oruk:page-0001.json")  # another feed file's
