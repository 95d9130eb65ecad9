"""The pins lookup: the collection's pins.yml by dotted path, and a wrong path named with what is there."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleLookupError

from ansible_collections.airflow_k8s.platform.plugins.lookup.pins import PINS, LookupModule, load_pins, pin


def test_the_lookup_reads_the_collections_own_pins_file():
    assert PINS.is_file() and (PINS.parent / "plugins" / "lookup" / "pins.py").is_file()
    pins = load_pins()
    assert LookupModule().run(["helm.version", "kind.node_image"]) == [pins["helm"]["version"], pins["kind"]["node_image"]]
    assert pins["helm"]["version"] in pins["helm"]["checksums"]
    assert pins["kind"]["version"] in pins["kind"]["checksums"]


def test_a_path_that_is_not_pinned_names_what_is():
    with pytest.raises(AnsibleLookupError, match=r"^pins.yml has no pin helm.versio \(names under helm: checksums, official_url,"
                                                 r" version\)$"):
        pin({"helm": {"version": "v1", "official_url": "u", "checksums": {}}}, "helm.versio")
    with pytest.raises(AnsibleLookupError, match=r"no pin helm.version.major \(names under helm.version: none, it is a value\)"):
        pin({"helm": {"version": "v1"}}, "helm.version.major")
