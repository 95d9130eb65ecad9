"""What the molecule/local scenario takes from the test session: its DAG in Airflow, its parts in the environment."""

from __future__ import annotations

from .common import REPO_ROOT
from .helm import HELM_PIN

LOCAL_DAG = REPO_ROOT / "molecule" / "local" / "dags" / "first_script_on_docker.py"


def install_local_dag(airflow) -> None:
    """Put first_script_on_docker (first_script's job on Docker) into ``airflow`` and parse it now."""
    airflow.write_dag(LOCAL_DAG.name, LOCAL_DAG.read_text(encoding="utf-8"))
    airflow.reserialize()


def parts_env(airflow, registry_host: str, base_image: str, helm_mirror) -> dict[str, str]:
    """The variables molecule/local's inventory reads (see molecule/local/README.md)."""
    return {
        "MOLECULE_HELM_MIRROR_URL": helm_mirror.url,
        "MOLECULE_HELM_SHA256": helm_mirror.sha256[HELM_PIN],
        "MOLECULE_REGISTRY": registry_host,
        "MOLECULE_BASE_IMAGE": base_image,
        "MOLECULE_AIRFLOW_URL": airflow.url,
        "AIRFLOW_USERNAME": airflow.admin,
        "AIRFLOW_PASSWORD": airflow.admin_password,
    }
