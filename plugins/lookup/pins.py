# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""The collection's pins (pins.yml at its root), for the roles' defaults."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pins
author:
  - airflow_k8s.platform maintainers (@airflow_k8s)
short_description: A version or checksum the collection pins
description:
  - Reads C(pins.yml) at the root of this collection, the one file that pins every version the collection installs
    or runs and the checksum of what it downloads, and returns the value at each dotted path given.
  - The roles' defaults come from it (C(helm_version), C(kind_cluster_version), C(kind_cluster_node_image), the
    checksum tables); set the role variable to use another value for one run or one inventory.
options:
  _terms:
    description: Dotted paths into the pins, such as C(helm.version) or C(kind.checksums).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Show the helm release the helm role installs unless told otherwise
  ansible.builtin.debug:
    msg: "{{ lookup('airflow_k8s.platform.pins', 'helm.version') }}"
"""

RETURN = r"""
_raw:
  description: The value at each path (a string, or a mapping for a path such as C(helm.checksums)).
  type: list
  elements: raw
"""

from functools import lru_cache
from pathlib import Path

import yaml

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

PINS = Path(__file__).resolve().parents[2] / "pins.yml"


def load_pins(path: Path = PINS) -> dict:
    """The pins, read once per version of the file (a run templates a default many times)."""
    return _read(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _read(path: Path, _mtime_ns: int) -> dict:
    with open(path, encoding="utf-8") as pins:
        return yaml.safe_load(pins)


def pin(pins: dict, dotted: str):
    value = pins
    for depth, name in enumerate(dotted.split(".")):
        if not isinstance(value, dict) or name not in value:
            where = ".".join(dotted.split(".")[:depth]) or "the top level"
            known = ", ".join(sorted(value)) if isinstance(value, dict) else "none, it is a value"
            raise AnsibleLookupError("pins.yml has no pin %s (names under %s: %s)" % (dotted, where, known))
        value = value[name]
    return value


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        try:
            pins = load_pins()
        except (OSError, yaml.YAMLError) as error:
            raise AnsibleLookupError("cannot read the collection's pins (%s): %s" % (PINS, error)) from None
        return [pin(pins, term) for term in terms]
