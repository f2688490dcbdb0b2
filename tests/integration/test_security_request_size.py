"""Only editors send big requests: a viewer's, a link worker's or a share link visitor's
callback request over 2 MB is refused before its body is read (the app's own limit, tens of
MB, leaves room for an editor's upload, and a 60 MB list of ids took a worker 3.6 s and
~400 MB to parse)."""

from __future__ import annotations

import base64

import pytest

from pages._access import SMALL_REQUEST_BYTES
from tests.integration.test_app_security import PATHWAY_FORM, call
from tests.integration.test_sign_in import home, sign_in, web  # noqa: F401  (fixtures)

# More ids than any page sends, in a body just over the limit.
MANY_NEEDS = [f"need-{i:07d}" for i in range(SMALL_REQUEST_BYTES // 12 + 1)]


@pytest.mark.parametrize("name", ["vic", "lin"])
def test_a_big_callback_request_below_editor_is_refused_unread(web, name):  # noqa: F811
    sign_in(web, name)
    status, text = call(web, "pw-table.rowData", {**PATHWAY_FORM, "pw-needs.value": MANY_NEEDS},
                        changed=["pw-needs.value"])
    assert status == 413, text[:200]
    assert "far bigger than any page sends" in text
    # an ordinary request still answers
    assert call(web, "pw-table.rowData", PATHWAY_FORM, changed=["pw-worker.value"])[0] == 200


def test_a_big_sign_in_form_is_refused(web):  # noqa: F811
    client = web[1]
    response = client.post("/login", data={"name": "vic", "password": "x" * SMALL_REQUEST_BYTES,
                                           "csrf_token": "whatever"})
    assert response.status_code == 413


def test_an_editor_still_uploads_a_file_bigger_than_the_small_limit(web):  # noqa: F811
    sign_in(web, "eddie")
    rows = "".join(f"org-{i},Organisation number {i:07d},cultural\n"
                   for i in range(SMALL_REQUEST_BYTES // 40 + 1))
    csv_text = "id,name,kind\n" + rows
    encoded = base64.b64encode(csv_text.encode()).decode()
    assert len(encoded) > SMALL_REQUEST_BYTES
    status, text = call(web, "data-upload-result.children",
                        {"data-upload.contents": [f"data:text/csv;base64,{encoded}"],
                         "data-upload.filename": ["organisations.csv"]},
                        changed=["data-upload.contents"])
    assert status == 200, text[:200]
    assert "far bigger" not in text and "Only editors" not in text
    assert "Loading it would add" in text  # previewed: the whole file arrived
