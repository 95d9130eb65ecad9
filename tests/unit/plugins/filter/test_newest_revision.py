"""The newest revision of a Helm release, from its storage Secrets."""

from __future__ import annotations

from ansible_collections.airflow_k8s.platform.plugins.filter.newest_revision import newest_revision


def revision(version, status):
    return {"name": f"sh.helm.release.v1.airflow.v{version}", "labels": {"version": str(version), "status": status}}


def test_revisions_compare_as_numbers_not_as_text():
    assert newest_revision([revision(9, "superseded"), revision(10, "deployed")])["labels"]["status"] == "deployed"


def test_a_pending_mark_a_rollback_left_behind_is_not_the_newest():
    history = [revision(5, "superseded"), revision(6, "pending-upgrade"), revision(7, "superseded"),
               revision(8, "deployed")]
    assert newest_revision(history)["labels"] == {"version": "8", "status": "deployed"}


def test_no_release_is_an_empty_dict():
    assert newest_revision([]) == {} and newest_revision(None) == {}
