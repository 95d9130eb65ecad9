"""pods_wait's own failures, each one line: no cluster is needed to see them. The wait itself runs against a real
cluster in the airflow role's tests (test_airflow_on_kind: stuck containers and a release that comes up)."""

from __future__ import annotations

import json
import socket

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.airflow_k8s.platform.plugins.modules import pods_wait


def run_main(capsys, **args):
    with patch_module_args({"namespace": "airflow", **args}), pytest.raises(SystemExit) as exited:
        pods_wait.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def kubeconfig(tmp_path, server: str) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "here",
        "clusters": [{"name": "here", "cluster": {"server": server}}],
        "users": [{"name": "here", "user": {"token": "not-a-real-one"}}],
        "contexts": [{"name": "here", "context": {"cluster": "here", "user": "here"}}]}))
    return str(path)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_context_the_kubeconfig_does_not_have_is_one_line_naming_it(tmp_path, capsys):
    code, result = run_main(capsys, kubeconfig=kubeconfig(tmp_path, "https://127.0.0.1:6443"), context="elsewhere")
    assert code == 1 and "\n" not in result["msg"]
    assert result["msg"].startswith(f"Can't reach the cluster with kubeconfig {tmp_path / 'kubeconfig'} and context"
                                    " elsewhere: "), result["msg"]
    assert "elsewhere" in result["msg"].split(": ", 1)[1]


def test_no_kubeconfig_outside_a_cluster_says_to_give_one(tmp_path, monkeypatch, capsys):
    import kubernetes.config.kube_config
    monkeypatch.setattr(kubernetes.config.kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(tmp_path / "none"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    code, result = run_main(capsys)
    assert code == 1 and result["msg"] == (
        "Can't reach the cluster with kubeconfig (the default) and context (its current one): there is no kubeconfig"
        " (KUBECONFIG, ~/.kube/config) and this is not a pod with a service account: give kubeconfig")


def test_an_api_that_does_not_answer_is_one_line_without_the_token(tmp_path, capsys):
    server = f"http://127.0.0.1:{closed_port()}"
    code, result = run_main(capsys, kubeconfig=kubeconfig(tmp_path, server), timeout=5)
    assert code == 1 and "\n" not in result["msg"]
    assert result["msg"].startswith("Can't list the pods in namespace airflow: the API did not answer ("), result
    assert "Connection refused" in result["msg"] and "not-a-real-one" not in json.dumps(result)
