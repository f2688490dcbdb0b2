"""The Gaps page's own-agreement lists (every organisation, service and link worker that could
be an end of a new referral agreement) are made once per data version, not on every visit
(0.4 s of CPU a visit at 100k nodes), and a load's new organisation is listed at once; on
both stores."""

from __future__ import annotations

import importlib

from tests.conftest import load_data
from tests.integration.test_page_payloads import _values_of, layout_tree, web  # noqa: F401 - the fixture


def test_own_agreement_ends_are_listed_once_per_data_version(web, monkeypatch):  # noqa: F811
    app, _client, store = web
    page = importlib.import_module("pages.gaps")
    whatif = importlib.import_module("pages._whatif")
    made: list[str] = []
    original = whatif._endpoint_options

    def counting(graph, allowed):
        made.append(allowed.__name__)
        return original(graph, allowed)

    monkeypatch.setattr(whatif, "_endpoint_options", counting)

    def ends() -> tuple[list[str], list[str]]:
        tree = layout_tree(app, page, "/gaps")
        return _values_of(tree, "wi-from"), _values_of(tree, "wi-to")

    first = ends()
    assert first[0] and first[1]
    assert ends() == first
    assert sorted(made) == ["can_receive", "can_refer"], "every visit listed every node again"
    load_data(store, {"organisations": [{"id": "org-new-ends", "name": "New Ends Trust",
                                         "kind": "voluntary_community"}]})
    after = ends()
    assert "org-new-ends" in after[0] and "org-new-ends" not in first[0]
    assert len(made) == 4
