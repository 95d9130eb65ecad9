"""The collection as the ecosystem's own validators see it, on the artifact `ansible-galaxy collection build`
makes: Galaxy's importer, antsibull-docs (lint and the rendered docs site), antsibull-changelog, ansible-test units
on every ansible-core release meta/runtime.yml admits, and a plain `ansible-lint --profile production` on a copy of
the checkout with only what the project's own set-up installs. (ansible-test sanity runs in its own stage of the
test command, scripts/sanity.sh, on the same releases.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.support.ansible_test_pip import ensure_pip_bootstrap
from tests.support.common import REPO_ROOT, VENV_BIN, tool_env
from tests.support.venvs import ensure_venv

TOOLS_REQUIREMENTS = REPO_ROOT / "tests" / "collection-tools-requirements.txt"
OLDER_CORES = sorted(REPO_ROOT.glob("tests/ansible-core-*-requirements.txt"))
ROLES = sorted(path.name for path in (REPO_ROOT / "roles").iterdir() if (path / "meta" / "argument_specs.yml").exists())
# The venv's ansible package: kubernetes.core and community.docker, the collection's dependencies, live here.
BUNDLED_COLLECTIONS = next(Path(p) for p in sys.path if p.endswith("site-packages"))
# The one warning Galaxy's importer may give: it lists the sanity ignore entries (each says why it is there).
IGNORE_FILES_NOTE = re.compile(r"^WARNING: Ignore files skip ansible-test sanity tests, found ignore-2\.\d+\.txt "
                               r"with \d+ statement\(s\)$")


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}:\n{(done.stdout + done.stderr)[-6000:]}"
    return done


@pytest.fixture(scope="module")
def tools() -> Path:
    """bin/ of the validators' venv."""
    return ensure_venv(TOOLS_REQUIREMENTS) / "bin"


def build(out: Path, **env: str) -> Path:
    done = run([str(REPO_ROOT / "scripts" / "build-collection.sh"), str(out)], REPO_ROOT, tool_env(**env))
    return Path(done.stdout.strip())


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("artifact"))


@pytest.fixture(scope="module")
def installed(artifact, tmp_path_factory) -> Path:
    """A collections path with only the artifact, unpacked where ansible-test and Ansible look for it."""
    root = tmp_path_factory.mktemp("installed")
    tree = root / "ansible_collections" / "airflow_k8s" / "platform"
    tree.mkdir(parents=True)
    with tarfile.open(artifact) as archive:
        archive.extractall(tree, filter="data")
    return root


def env_first_on_path(bin_dir: Path, **extra: str) -> dict[str, str]:
    """The tools' environment with ``bin_dir`` ahead of the test venv on PATH."""
    env = tool_env(**extra)
    return dict(env, PATH=f"{bin_dir}:{env['PATH']}")


def tools_env(tools: Path, installed: Path) -> dict[str, str]:
    return env_first_on_path(tools, ANSIBLE_COLLECTIONS_PATH=f"{installed}:{BUNDLED_COLLECTIONS}")


def import_to_galaxy(artifact: Path, tools: Path, installed: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    config = tmp_path / "galaxy-importer.cfg"
    # Its ansible-test step needs a container runtime of its own: sanity runs in scripts/sanity.sh instead.
    config.write_text("[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\n", encoding="utf-8")
    env = dict(tools_env(tools, installed), GALAXY_IMPORTER_CONFIG=str(config))
    return subprocess.run([str(tools / "python"), "-m", "galaxy_importer.main", str(artifact)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900, check=False)


def test_galaxy_importer_refuses_an_artifact_without_a_repository_and_says_so(artifact, tools, installed, tmp_path):
    """The project names no repository until it has a public home; publishing sets COLLECTION_REPOSITORY."""
    done = import_to_galaxy(artifact, tools, installed, tmp_path)
    assert done.returncode != 0 and "'repository' is required" in done.stdout + done.stderr


def test_galaxy_importer_accepts_the_artifact_without_a_warning(tools, installed, tmp_path):
    # A stand-in URL (reserved .test domain): the repository the publisher gives at release time.
    artifact = build(tmp_path / "publish", COLLECTION_REPOSITORY="https://git.example.test/airflow_k8s/platform")
    done = import_to_galaxy(artifact, tools, installed, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "Importer processing completed successfully" in output
    noted = [line for line in output.splitlines() if re.match(r"^\s*(WARNING|ERROR)\b", line)]
    assert [line for line in noted if not IGNORE_FILES_NOTE.match(line)] == [], output[-6000:]
    # What it found is what the collection is: the module, the filters and every role.
    for role in ROLES:
        assert f"Loading role {role}" in output
    assert "Loading module dag_run" in output and "Loading playbook" not in output


def test_antsibull_docs_lint_passes_on_the_installed_collection(tools, installed):
    tree = installed / "ansible_collections" / "airflow_k8s" / "platform"
    done = run([str(tools / "antsibull-docs"), "lint-collection-docs", "--plugin-docs", "--validate-collection-refs",
                "self", str(tree)], tree, tools_env(tools, installed))
    assert "error" not in (done.stdout + done.stderr).lower(), done.stdout + done.stderr


def test_the_docs_site_has_a_page_with_every_option_for_each_role_and_the_module(tools, installed, tmp_path):
    env = tools_env(tools, installed)
    site = tmp_path / "site"
    site.mkdir(mode=0o700)  # antsibull-docs writes only into a folder no one else can write to
    run([str(tools / "antsibull-docs"), "sphinx-init", "--use-current", "--dest-dir", str(site),
         "airflow_k8s.platform"], site, env)
    rst = site / "rst"  # what sphinx-init's build.sh does, step by step
    rst.mkdir(mode=0o700, exist_ok=True)
    rst.chmod(0o700)
    run([str(tools / "antsibull-docs"), "--config-file", "antsibull-docs.cfg", "collection", "--cleanup",
         "everything", "--use-current", "--dest-dir", str(rst), "airflow_k8s.platform"], site, env)
    warnings = site / "warnings.txt"
    run([str(tools / "sphinx-build"), "-M", "html", str(rst), str(site / "build"), "-c", str(site), "-q",
         "-w", str(warnings)], site, env)
    # Offline, intersphinx can fetch no inventory, so links into other projects' docs stay unresolved; a link
    # into this collection that does not resolve, or any other warning, is a defect.
    problems = [line for line in warnings.read_text(encoding="utf-8").splitlines()
                if line.strip() and "failed to reach any of the inventories" not in line
                and "intersphinx inventory" not in line
                and not re.search(r"undefined label: '(?!ansible_collections\.airflow_k8s\.)", line)]
    assert problems == []

    pages = site / "build" / "html" / "collections" / "airflow_k8s" / "platform"
    for role in ROLES:
        specs = yaml.safe_load((REPO_ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
        page = (pages / f"{role}_role.html").read_text(encoding="utf-8")
        for entry_point, spec in specs["argument_specs"].items():
            missing = [option for option in spec.get("options", {})
                       if f'id="parameter-{entry_point}--{option}"' not in page]
            assert missing == [], f"{role} role page, entry point {entry_point}: no entry for {missing}"
    doc = run([str(VENV_BIN / "ansible-doc"), "--json", "airflow_k8s.platform.dag_run"], site,
              tool_env(ANSIBLE_COLLECTIONS_PATH=str(installed)))
    options = json.loads(doc.stdout)["airflow_k8s.platform.dag_run"]["doc"]["options"]
    page = (pages / "dag_run_module.html").read_text(encoding="utf-8")
    assert [option for option in options if f'id="parameter-{option}"' not in page] == []


def test_antsibull_changelog_lints_the_fragments_and_the_changelog(tools):
    env = env_first_on_path(tools)
    for command in (["lint"], ["lint-changelog-yaml", "changelogs/changelog.yaml"]):
        done = run([str(tools / "antsibull-changelog"), *command], REPO_ROOT, env)
        assert done.stdout + done.stderr == "", done.stdout + done.stderr
    assert list((REPO_ROOT / "changelogs" / "fragments").glob("*.yml"))


def admitted_cores() -> list[str]:
    """Every ansible-core minor release meta/runtime.yml admits, up to the test venv's own."""
    floor = yaml.safe_load((REPO_ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"]
    low = int(re.fullmatch(r">=2\.(\d+)\.\d+", floor).group(1))
    import ansible.release  # the test venv's own ansible-core
    high = int(ansible.release.__version__.split(".")[1])
    return [f"2.{minor}" for minor in range(low, high + 1)]


def test_every_role_says_the_collections_ansible_floor():
    floor = re.fullmatch(r">=(2\.\d+)\.\d+", yaml.safe_load((REPO_ROOT / "meta" / "runtime.yml").read_text())[
        "requires_ansible"]).group(1)
    said = {role.parent.parent.name: yaml.safe_load(role.read_text())["galaxy_info"]["min_ansible_version"]
            for role in sorted((REPO_ROOT / "roles").glob("*/meta/main.yml"))}
    assert said and set(said.values()) == {floor}, said


def test_every_admitted_ansible_core_has_a_sanity_and_units_run():
    import ansible.release
    covered = {".".join(ansible.release.__version__.split(".")[:2])}
    covered |= {re.search(r"ansible-core-(2\.\d+)-", path.name).group(1) for path in OLDER_CORES}
    assert covered == set(admitted_cores())
    for core in covered:
        assert (REPO_ROOT / "tests" / "sanity" / f"ignore-{core}.txt").exists()


@pytest.mark.parametrize("requirements", [None, *OLDER_CORES], ids=lambda path: path.stem if path else "venv")
def test_ansible_test_units_pass_on_the_artifact(installed, requirements):
    bin_dir = ensure_venv(requirements) / "bin" if requirements else VENV_BIN
    ensure_pip_bootstrap(bin_dir / "python")
    tree = installed / "ansible_collections" / "airflow_k8s" / "platform"
    python = "%d.%d" % sys.version_info[:2]
    done = run([str(bin_dir / "ansible-test"), "units", "--venv", "--requirements", "--python", python,
                "--color", "no"], tree, env_first_on_path(bin_dir))
    passed = sum(int(count) for count in re.findall(r"(\d+) passed", done.stdout))
    collected = len(list((tree / "tests" / "unit").rglob("test_*.py")))
    assert collected and passed >= collected, done.stdout[-3000:]
    assert "failed" not in done.stdout


def test_plain_ansible_lint_passes_on_a_copy_of_the_checkout(tmp_path):
    """What a newcomer's clone sees: the tracked files, the project's own collections set-up, no extra path."""
    copy = tmp_path / "clone"
    run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO_ROOT), str(copy)], tmp_path, tool_env())
    # The working tree as it is now (a clone holds the last commit): tracked and new, not ignored.
    listed = run([str(REPO_ROOT / "scripts" / "checkout-files.sh")], REPO_ROOT, tool_env())
    for name in filter(None, listed.stdout.split("\0")):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, copy / name)
    (copy / ".venv").symlink_to(VENV_BIN.parent)
    run([str(copy / "scripts" / "collections.sh")], copy, tool_env())
    env = {key: value for key, value in tool_env().items() if not key.startswith("ANSIBLE_")}
    run([str(VENV_BIN / "ansible-lint"), "--profile", "production"], copy, env)


# A role default taken from the collection's pins: the agreement test compares the pin's value.
PIN_LOOKUP = re.compile(r"^\{\{ lookup\('airflow_k8s\.platform\.pins', '([\w.]+)'\) \}\}$")


def resolved(value, pins: dict):
    match = PIN_LOOKUP.match(value) if isinstance(value, str) else None
    if not match:
        return value
    for name in match.group(1).split("."):
        pins = pins[name]
    return pins


@pytest.mark.parametrize("role", sorted(path.name for path in (REPO_ROOT / "roles").iterdir()))
def test_a_roles_defaults_and_its_argument_specs_agree(role):
    """meta/argument_specs.yml is the manual (ansible-doc prints it): each default it gives is the one the role
    runs with, and each variable the role defaults is in it. A pinned default is compared as its pin's value."""
    pins = yaml.safe_load((REPO_ROOT / "pins.yml").read_text())
    defaults = yaml.safe_load((REPO_ROOT / "roles" / role / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((REPO_ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    for entry_point, spec in specs.items():
        options = spec.get("options", {})
        assert not set(defaults) - set(options), f"{role} {entry_point}: defaults without a manual entry"
        for name, option in options.items():
            assert option.get("description"), f"{role} {entry_point}: {name} has no description"
            if name in defaults:
                assert "default" in option, f"{role} {entry_point}: {name} has a default the manual does not give"
                assert option["default"] == resolved(defaults[name], pins), f"{role} {entry_point}: {name}"
            else:
                assert "default" not in option, f"{role} {entry_point}: {name}'s documented default is not the role's"
