"""Document and script names name documents: the local server and polynb's connector refuse a way out."""
from __future__ import annotations

import pytest
from vantiq_harness import polynb_connector

SOURCE = "names"


@pytest.mark.parametrize("name", ["..", "../api/v1/resources/sources/names", "a/../../x.py"])
def test_uploading_a_document_whose_name_leads_outside_the_documents_is_a_400(rest, name):
    reply = rest.client.post("/api/v1/resources/documents", json={"name": name, "content": "a = 1\n"})
    assert reply.status_code == 400
    assert reply.json() == [{"code": "io.polynb.vantiq.document.badname",
                             "message": "The document name {0} leads outside the documents resource.",
                             "params": [name]}]


def test_a_document_in_a_folder_is_served_at_its_quoted_content_path(rest):
    assert rest.client.post("/api/v1/resources/documents",
                            json={"name": "lib/a b.py", "content": "a = 1\n"}).status_code == 200
    meta = rest.client.get("/api/v1/resources/documents/lib/a b.py").json()
    assert meta["content"] == "/docs/lib/a%20b.py"
    assert rest.client.get(meta["content"]).text == "a = 1\n"


@pytest.mark.parametrize("script", ["..", "../sources/names", "."])
def test_a_script_query_naming_no_document_is_refused_by_the_connector(server, rest, tmp_path, script):
    with polynb_connector(tmp_path / ".polynb", server["url"], server["token"], SOURCE):
        status, body = rest.query(SOURCE, {"script": script})
    assert status == 400
    assert body[0]["code"] == "io.polynb.vantiq.document.badname" and body[0]["params"] == [script]
