"""AWX as code, checked without an AWX server: the AWX playbook against the real awx.awx collection,
the execution environment's build context, and the stage playbooks run by ansible-runner (the engine
AWX uses) with credentials given the way AWX injects them."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import ansible_runner
import pytest
import yaml

from tests.support.common import REPO_ROOT, VENV_BIN, run_tool, tool_env
from tests.support.helm import HELM_CHECKSUMS, HELM_PIN
from tests.support.molecule_local import install_local_dag, parts_env


@functools.cache
def awx_collections_path() -> str:
    """collections/, where scripts/collections.sh puts awx.awx at the version collections/requirements.yml pins."""
    done = subprocess.run([str(REPO_ROOT / "scripts" / "collections.sh")], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    return str(REPO_ROOT / "collections")


def awx_env():
    return tool_env(ANSIBLE_COLLECTIONS_PATH=awx_collections_path())


@functools.cache
def module_options(module: str) -> dict:
    """The module's documented options (auth fragment included), from the real awx.awx collection."""
    done = run_tool("ansible-doc", "-t", "module", "--json", module, env=awx_env())
    return json.loads(done.stdout)[module]["doc"]["options"]


def awx_tasks():
    plays = yaml.safe_load((REPO_ROOT / "playbooks" / "awx.yml").read_text())
    for play in plays:
        for task in play.get("tasks", []):
            for key, args in task.items():
                if key.startswith("awx.awx."):
                    yield task["name"], key, args


def test_the_awx_playbook_uses_awx_modules():
    modules = {module for _name, module, _args in awx_tasks()}
    assert {"awx.awx.project", "awx.awx.inventory", "awx.awx.inventory_source", "awx.awx.credential",
            "awx.awx.job_template", "awx.awx.workflow_job_template"} <= modules


@pytest.mark.parametrize("name, module, args", list(awx_tasks()), ids=lambda value: str(value)[:40])
def test_every_awx_task_matches_its_module_argument_spec(name, module, args):
    options = module_options(module)
    known = set(options) | {alias for option in options.values() for alias in option.get("aliases", [])}
    assert set(args) <= known, f"{name}: {sorted(set(args) - known)} are not options of {module}"
    for key, value in args.items():
        choices = options.get(key, {}).get("choices")
        if choices and isinstance(value, str) and "{{" not in value:
            assert value in choices, f"{name}: {key}={value!r} is not one of {choices}"
        if options.get(key, {}).get("type") == "bool":
            assert isinstance(value, bool), f"{name}: {key} should be a boolean"


def test_ansible_lint_passes_on_the_awx_playbook_with_awx_awx_installed():
    run_tool("ansible-lint", "--profile", "production", "playbooks/awx.yml", env=awx_env())


def test_ansible_builder_creates_a_context_offline_that_pins_helm_by_checksum(tmp_path):
    run_tool("ansible-builder", "create", "-f", str(REPO_ROOT / "execution-environment.yml"),
             "-c", str(tmp_path), "--output-filename", "Containerfile", env=awx_env())
    containerfile = (tmp_path / "Containerfile").read_text()
    # The EE's helm is the helm role's pin, with the official sha256 from the role's table.
    assert f"HELM_VERSION={HELM_PIN} HELM_SHA256={HELM_CHECKSUMS[HELM_PIN]['linux-amd64']}" in containerfile
    script = (tmp_path / "_build" / "scripts" / "install-helm.sh").read_text()
    assert 'sha256sum -c -' in script and script.index("sha256sum") < script.index("tar -xzf")
    assert "ansible-core==2.21.5" in containerfile + (tmp_path / "_build" / "requirements.txt").read_text() or \
        "ansible-core==2.21.5" in containerfile


def test_stage_playbooks_run_through_ansible_runner_with_awx_style_credentials(
        tmp_path, airflow, registry, base_image, helm_mirror):
    install_local_dag(airflow)
    # As AWX injects them: parts and the Airflow API in the environment, the registry credential
    # (this project's custom credential type) as extra vars. The registry is the open one: the local
    # Airflow's DockerOperator pulls the image without credentials of its own.
    envvars = {
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / "collections"),
        "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "state"),
        "HOME": str(tmp_path / "home"),
        **parts_env(airflow, registry.host, base_image, helm_mirror),
    }
    (tmp_path / "home").mkdir()
    registry_password = "injected-" + os.urandom(6).hex()
    extravars = {"image_registry_username": "awx-pusher", "image_registry_password": registry_password,
                 "ansible_python_interpreter": sys.executable}
    events = []
    for stage in ("helm", "image", "dag_run"):
        (tmp_path / "runner" / stage).mkdir(parents=True)
        run = ansible_runner.run(
            private_data_dir=str(tmp_path / "runner" / stage), project_dir=str(REPO_ROOT),
            playbook=f"playbooks/{stage}.yml", inventory=str(REPO_ROOT / "molecule" / "local" / "inventory"),
            envvars=envvars, extravars=extravars, quiet=True)
        stdout = run.stdout.read()
        assert run.status == "successful", f"{stage}: {stdout[-4000:]}"
        assert registry_password not in stdout and airflow.admin_password not in stdout
        run_events = list(run.events)
        events.extend(run_events)
        # What a workflow does between its jobs: the set_stats artifacts become the next job's extra vars.
        for event in run_events:
            if event.get("event") == "playbook_on_stats":
                extravars.update(event["event_data"].get("artifact_data") or {})
    assert extravars["image_ref"].startswith(f"{registry.host}/first-script@sha256:")
    shown = [event["event_data"]["res"] for event in events
             if event.get("event") == "runner_on_ok" and event["event_data"].get("task") == "Show what the task printed"]
    assert any("Hello from kubernetes!!!" in line for line in shown[0]["msg"]["run_first_script"])
