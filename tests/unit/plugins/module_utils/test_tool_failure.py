"""Other tools' failures told apart by what they say, on the messages they really gave."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.airflow_k8s.platform.plugins.filter.tool_failure import tool_failure
from ansible_collections.airflow_k8s.platform.plugins.module_utils.tool_failure import failure_kind, one_line, reason

MESSAGES = json.loads((Path(__file__).parent / "fixtures" / "tool-failures.json").read_text())["messages"]

EXPECTED = {
    "build-base-missing": ("unreachable", "connection refused"),
    "build-base-unreachable": ("unreachable", "no such host"),
    # The RUN step's own output names a DNS failure: it is the build's, not the Engine's, reason.
    "build-run-step-fails": ("other", "1"),
    "download-checksum-mismatch": ("checksum", None),
    "download-no-dns": ("unreachable", None),
    "download-refused": ("unreachable", None),
    "engine-not-answering": ("other", None),
    "login-refused": ("refused", "401 Unauthorized"),
    "login-unreachable": ("unreachable", "connection refused"),
    "pull-docker-hub-offline": ("unreachable", "no such host"),
    "pull-no-dns": ("unreachable", "no such host"),
    "pull-not-found": ("not-found", "manifest unknown"),
    "push-refused": ("refused", "no basic auth credentials"),
    "push-unreachable": ("unreachable", "connection refused"),
}


def test_every_captured_message_has_an_expectation():
    assert sorted(MESSAGES) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_message_is_told_by_its_kind_and_reason(name):
    kind, last_words = EXPECTED[name]
    assert failure_kind(MESSAGES[name]) == kind
    if last_words is not None:
        assert reason(MESSAGES[name]) == last_words


@pytest.mark.parametrize("message, kind", [
    ('Get "https://r.example.com/v2/": http: server gave HTTP response to HTTPS client', "tls"),
    ('Get "https://r.example.com/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority',
     "tls"),
    ("pull access denied for nosuch, repository does not exist or may require 'docker login': denied: requested access"
     " to the resource is denied", "refused"),
    ("", "other"),
    (None, "other"),
])
def test_kinds_the_machine_here_cannot_produce_are_told_by_the_engines_documented_words(message, kind):
    assert failure_kind(message) == kind


def test_one_line_collapses_white_space_and_cuts_with_an_ellipsis():
    assert one_line("a\n  b\tc") == "a b c"
    assert one_line("x" * 400, 300) == "x" * 297 + "..."
    assert tool_failure(MESSAGES["push-refused"], 20) == {"kind": "refused", "line": "Error pushing ima...",
                                                          "reason": "no basic auth credentials"}
