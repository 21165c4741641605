"""prefect.yaml, Dockerfile and docker-compose.yml name only things that exist.

No Docker engine runs on these machines, so the files are checked for what can be checked:
they parse, and every entrypoint, file, command and variable they name is real.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prefect.flows import load_flow_from_entrypoint

ROOT = Path(__file__).resolve().parents[2]


def load_yaml(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def test_prefect_yaml_deploys_overlapping_fleet_workers_and_a_manual_poll() -> None:
    deployments = {d["name"]: d for d in load_yaml("prefect.yaml")["deployments"]}
    assert set(deployments) == {"fleet", "manual"}
    for deployment in deployments.values():
        assert deployment["work_pool"]["name"] == "poller"
    fleet, manual = deployments["fleet"], deployments["manual"]
    assert load_flow_from_entrypoint(str(ROOT / fleet["entrypoint"])).name == "fleet-worker"
    assert set(fleet["parameters"]) == {"duration_seconds"}
    (schedule,) = fleet["schedules"]
    # runs overlap, so a machine lost costs at most one interval until the next run starts
    assert fleet["parameters"]["duration_seconds"] >= 2 * schedule["interval"]
    assert load_flow_from_entrypoint(str(ROOT / manual["entrypoint"])).name == "poll-connection"
    # one deployment for every connection: a limit would make them queue behind each other
    assert "concurrency_limit" not in manual and "schedules" not in manual
    for deployment in deployments.values():  # the zombie automation expects 30 s heartbeats
        env = deployment["work_pool"]["job_variables"]["env"]
        assert env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == "30"


def test_dockerfile_copies_existing_paths_and_serves_the_connections() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
    assert 'CMD ["poller", "run"]' in dockerfile


def test_compose_services_files_and_variables_exist() -> None:
    compose = load_yaml("docker-compose.yml")
    services = compose["services"]
    assert set(services) == {"postgres", "prefect-server", "poller", "worker"}
    assert services["poller"]["command"] == ["poller", "run"]
    pool = services["worker"]["command"][services["worker"]["command"].index("--pool") + 1]
    assert pool == load_yaml("prefect.yaml")["deployments"][0]["work_pool"]["name"]
    assert (ROOT / services["poller"]["build"] / "Dockerfile").exists()
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
        for dependency in service.get("depends_on", {}):
            assert dependency in services
    assert services["prefect-server"]["ports"] == ["4200:4200"]
    text = (ROOT / "docker-compose.yml").read_text()
    variables = set(re.findall(r"\$\{(\w+)", text))
    assert variables == {
        "POSTGRES_PASSWORD",
        "PREFECT_SERVER_ENCRYPTION_KEY",
        "POLLER_ENCRYPTION_KEY",
    }
    readme = (ROOT / "README.md").read_text()
    for variable in variables:
        assert variable in readme, f"{variable} is not documented in the README"


def test_no_secret_is_written_into_the_production_files() -> None:
    for name in ("docker-compose.yml", "Dockerfile", "prefect.yaml"):
        text = (ROOT / name).read_text()
        assert not re.search(r"gAAAAA|whsec_|[A-Za-z0-9_-]{43}=", text), name
        assert not re.search(r"PASSWORD:\s+[^$\s]", text), name
