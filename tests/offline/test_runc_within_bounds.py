"""The Docker runtime wrapper's spec editing, on spec files like the ones runc is handed."""

from __future__ import annotations

import json
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader

from tests.support.common import REPO_ROOT

PATH = REPO_ROOT / "roles" / "kind_cluster" / "files" / "docker-engine" / "runc-within-bounds.py"
_loader = SourceFileLoader("runc_within_bounds", str(PATH))
wrapper = module_from_spec(spec_from_loader("runc_within_bounds", _loader))
_loader.exec_module(wrapper)

ALL = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_BPF"]
WITHOUT_SYS_RESOURCE = (1 << 41) - 1 - (1 << 24)  # what the VMs here have: 0x1fffeffffff


def test_drops_only_what_the_bounding_set_lacks():
    narrowed = wrapper.within_bounds({"bounding": ALL, "effective": ALL}, WITHOUT_SYS_RESOURCE)
    assert narrowed == {"bounding": ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_BPF"],
                        "effective": ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_BPF"]}


def test_a_name_it_does_not_know_passes_through():
    assert wrapper.within_bounds({"bounding": ["CAP_FUTURE"]}, 0) == {"bounding": ["CAP_FUTURE"]}


def test_create_edits_the_bundle_config(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"process": {"capabilities": {"bounding": ALL}}}))
    argv = ["--root", "/run/runc", "--log", "/x/log.json", "create", "--bundle", str(tmp_path), "id1"]
    path, keys = wrapper.spec_to_fix(argv)
    wrapper.fix(path, keys, WITHOUT_SYS_RESOURCE)
    assert "CAP_SYS_RESOURCE" not in json.loads((tmp_path / "config.json").read_text())["process"]["capabilities"][
        "bounding"]


def test_exec_edits_the_process_file(tmp_path):
    process = tmp_path / "process.json"
    process.write_text(json.dumps({"args": ["sh"], "capabilities": {"permitted": ALL}}))
    path, keys = wrapper.spec_to_fix(["exec", "--process", str(process), "--detach", "id1"])
    wrapper.fix(path, keys, WITHOUT_SYS_RESOURCE)
    assert json.loads(process.read_text())["capabilities"]["permitted"] == ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_BPF"]


def test_other_commands_touch_no_file():
    assert wrapper.spec_to_fix(["--root", "/run/runc", "state", "id1"]) is None
    assert wrapper.spec_to_fix(["delete", "--force", "id1"]) is None
