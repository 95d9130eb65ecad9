"""The image tag that names a build context: stable for the same context, new for any change."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.platform.plugins.filter.image_context_tag import image_context_tag

CONTEXT = "/tmp/work/ctx"
# What ansible.builtin.find gave for a context of two files (get_checksum, sha256).
FILES = [{"path": "/tmp/work/ctx/sub/x.py", "checksum": "0263829989b6fd954f72baaf2fc64bc2e2f01d692d4de72986ea808f6e99813f"},
         {"path": "/tmp/work/ctx/Dockerfile", "checksum": "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7"}]
ARGS = ["python:3.13-alpine", "https://example.com/src", "abc", ""]


def test_the_tag_is_the_one_the_roles_jinja_gave_for_the_same_context():
    # ctx-5ea7a64fd13cd036: the image role's earlier Jinja pipeline on this context, run with ansible-core 2.21.
    assert image_context_tag(FILES, CONTEXT, ARGS) == "ctx-5ea7a64fd13cd036"


def test_the_tag_follows_the_context_not_where_it_is_or_the_order_find_lists_it():
    moved = [{"path": f["path"].replace(CONTEXT, "/elsewhere/ctx"), "checksum": f["checksum"]} for f in FILES]
    assert image_context_tag(list(reversed(moved)), "/elsewhere/ctx", ARGS) == image_context_tag(FILES, CONTEXT, ARGS)


@pytest.mark.parametrize("change", ["content", "rename", "added", "removed", "argument"])
def test_any_change_of_what_goes_into_the_build_gives_a_new_tag(change):
    files, args = [dict(f) for f in FILES], list(ARGS)
    if change == "content":
        files[0]["checksum"] = "0" * 64
    elif change == "rename":
        files[0]["path"] = "/tmp/work/ctx/sub/y.py"
    elif change == "added":
        files.append({"path": "/tmp/work/ctx/.env", "checksum": "1" * 64})
    elif change == "removed":
        files.pop()
    else:
        args[2] = "abd"
    assert image_context_tag(files, CONTEXT, args) != image_context_tag(FILES, CONTEXT, ARGS)


def test_files_without_checksums_are_refused_saying_what_find_needs():
    with pytest.raises(AnsibleFilterError, match="get_checksum: true"):
        image_context_tag([{"path": "/tmp/work/ctx/Dockerfile"}], CONTEXT)
