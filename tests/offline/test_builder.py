"""The offline build's pure parts: reading kind's source, versions, version stamps and the pins; and the lock each
part is made under."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
import yaml

from offline.builder import gobuild, kindsource, plan
from offline.builder.cache import Cache
from offline.builder.common import BuildFailed
from tests.support.common import REPO_ROOT


class TestGoStringConstants:
    def test_joins_literals_and_earlier_constants(self):
        source = 'const a = "x:1"\nconst b = `one ` + a + ` two` +\n\t"\\tthree"\n'
        assert kindsource.go_string_constants(source) == {"a": "x:1", "b": "one x:1 two\tthree"}

    def test_an_override_reaches_the_constants_that_use_it(self):
        source = 'const image = "theirs:1"\nconst manifest = `image: ` + image\n'
        assert kindsource.go_string_constants(source, {"image": "ours:2"})["manifest"] == "image: ours:2"

    def test_stops_at_a_name_it_does_not_know(self):
        assert kindsource.go_string_constants('const a = `x` + unknown\n') == {"a": "x"}


class TestSandboxImage:
    def test_replaces_the_one_setting(self):
        config = '[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "registry.k8s.io/pause:3.10"\n'
        assert 'sandbox_image = "registry.k8s.io/pause:3.10.1"' in kindsource.with_sandbox_image(
            config, "registry.k8s.io/pause:3.10.1")

    def test_a_config_without_it_is_an_error_that_says_so(self):
        with pytest.raises(BuildFailed, match="no single sandbox_image"):
            kindsource.with_sandbox_image("version = 2\n", "pause:1")


class TestVersions:
    @pytest.mark.parametrize("image, version", [
        ("kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f", "v1.35.0"),
        ("kindest/node:v1.34.2", "v1.34.2"),
        ("localhost:5000/node:v1.35.1", "v1.35.1"),
    ])
    def test_kubernetes_version_comes_from_the_node_image_tag(self, image, version):
        assert plan.kubernetes_version_of(image) == version

    def test_a_node_image_without_a_version_tag_says_what_to_do(self):
        with pytest.raises(BuildFailed, match="--kubernetes-version"):
            plan.kubernetes_version_of("kindest/node@sha256:452d")

    def test_the_pins_the_roles_use_are_what_the_build_follows(self, tmp_path):
        pins = yaml.safe_load((REPO_ROOT / "pins.yml").read_text())
        assert plan.role_pins() == (pins["kind"]["version"], plan.kubernetes_version_of(pins["kind"]["node_image"]),
                                    pins["helm"]["version"])
        pins["kind"]["version"], pins["kind"]["node_image"], pins["helm"]["version"] = "v0.1.0", "n:v1.2.3", "v3.4.5"
        (tmp_path / "pins.yml").write_text(yaml.safe_dump(pins))
        assert plan.role_pins(tmp_path / "pins.yml") == ("v0.1.0", "v1.2.3", "v3.4.5")

    def test_stamp_values_split_a_release(self):
        values = gobuild.stamp_values("v1.35.0", {"Origin": {"Hash": "abc"}, "Time": "2025-12-17T12:32:06Z"})
        assert values == {"version": "v1.35.0", "bare_version": "1.35.0", "major": "1", "minor": "35",
                          "commit": "abc", "time": "2025-12-17T12:32:06Z"}


class TestPins:
    pins = yaml.safe_load((REPO_ROOT / "pins.yml").read_text())["offline"]

    @pytest.mark.parametrize("name", sorted(pins["go_parts"]))
    def test_every_go_part_says_where_it_comes_from_and_has_one_version_source(self, name):
        pin = self.pins["go_parts"][name]
        assert pin["from"] and pin["module"] and pin["binaries"]
        assert ("version" in pin) != ("version_from" in pin)
        assert pin.get("version_from", "kubeadm") in ("kubeadm", "kind.version", "kind.node_image", "helm.version")

    def test_every_variable_stamp_names_a_known_value(self):
        known = gobuild.stamp_values("v1.2.3", {})
        for name, pin in self.pins["go_parts"].items():
            for value in pin.get("version_variables", {}).values():
                value.format(**known)  # a typo in a placeholder raises KeyError here

    def test_every_overlay_is_a_go_file_of_ours_in_place_of_a_go_file(self):
        overlays = {name: pin["overlays"] for name, pin in self.pins["go_parts"].items() if "overlays" in pin}
        assert set(overlays) == {"coredns", "traefik"}
        for replaced, ours in (item for items in overlays.values() for item in items.items()):
            assert replaced.endswith(".go") and "/" in replaced, replaced
            assert (gobuild.OVERLAYS / ours).is_file() and ours.endswith(".go"), ours

    def test_an_overlays_content_is_part_of_the_cache_key(self, tmp_path, monkeypatch):
        monkeypatch.setattr(gobuild, "OVERLAYS", tmp_path)
        (tmp_path / "ours.go").write_text("package a\n")
        part = gobuild.GoPart(name="p", module="example.com/p", version="v1.0.0", binaries={"p": "."},
                              overlays={"example.com/dep/pkg/file.go": "ours.go"})
        before = gobuild.key(part.inputs("go1.26"))
        (tmp_path / "ours.go").write_text("package a // changed\n")
        assert gobuild.key(part.inputs("go1.26")) != before
        # A part without overlays keeps the key it had before overlays existed.
        plain = gobuild.GoPart(name="p", module="example.com/p", version="v1.0.0", binaries={"p": "."})
        assert "overlays" not in plain.inputs("go1.26")

    def test_the_node_gets_every_binary_kind_places(self):
        from offline.builder.nodeimage import PLACES
        for part, (_folder, names) in PLACES.items():
            assert set(names) <= set(self.pins["go_parts"][part]["binaries"]), part


# Another build, as a process of its own: it holds one part's lock until the release file appears.
HOLD = """
import pathlib, sys, time
from offline.builder.cache import Cache
with Cache(pathlib.Path(sys.argv[1])).making(sys.argv[2]):
    print("holding", flush=True)
    while not pathlib.Path(sys.argv[3]).exists():
        time.sleep(0.05)
"""


class TestPartLocks:
    """Two builds at once (CI's, and a cluster test's asking for the node image): a part is made by one of them, and
    a build waits only for the parts it needs that the other is making."""

    def test_a_build_waits_for_the_part_another_is_making_and_for_no_other(self, tmp_path, capfd):
        release = tmp_path / "release"
        other = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "cache"), "traefik", str(release)],
                                 stdout=subprocess.PIPE, cwd=REPO_ROOT)
        try:
            assert other.stdout.readline() == b"holding\n"
            cache = Cache(tmp_path / "cache")
            start = time.monotonic()
            with cache.making("kubernetes"):
                pass
            assert time.monotonic() - start < 1, "a part nobody else is making waited"
            threading.Timer(1.0, release.touch).start()
            with cache.making("traefik"):
                assert release.exists(), "took the part's lock while the other build still held it"
            assert "offline: traefik: another build is making it, waiting for that one" in capfd.readouterr().err
        finally:
            release.touch()
            other.wait(timeout=10)
