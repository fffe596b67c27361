"""The production static storage serves Jazzmin's theme folder URL."""

import json

import pytest

from thrift_ms.storage import StaticFilesStorage


@pytest.fixture
def storage(tmp_path):
    (tmp_path / "vendor" / "bootswatch").mkdir(parents=True)
    (tmp_path / "site.css").write_text("body {}")
    manifest = {"paths": {"site.css": "site.0123abcd.css"}, "version": "1.1"}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    return StaticFilesStorage(location=str(tmp_path), base_url="/static/")


def test_a_folder_is_served_under_its_own_name(storage):
    assert storage.url("vendor/bootswatch") == "/static/vendor/bootswatch"


def test_a_file_is_served_under_its_hashed_name(storage):
    assert storage.url("site.css") == "/static/site.0123abcd.css"


def test_a_missing_file_is_still_refused(storage):
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        storage.url("missing.css")
