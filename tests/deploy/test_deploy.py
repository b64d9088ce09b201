"""The deployment files are tested like code: the Dockerfile is linted and the command it
runs is run for real; the Kubernetes manifests are validated against the schema and
against the app they deploy (probe paths, ports, user, commands).

Docker is not needed: an image's command is just a process. The Dockerfile's ``ENV`` and
``CMD`` are read from the file itself, so a change there is what gets tested.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import yaml

from course_app.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
K8S = ROOT / "deploy" / "k8s"
K8S_VERSION = "1.33"
SECRET = "deploy-test-" + "s" * 40


# --- the Dockerfile, read -----------------------------------------------------------------
def instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` pairs, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in logical]


def final_stage(text: str) -> list[tuple[str, str]]:
    steps = instructions(text)
    last_from = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def image_env(text: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, arguments in final_stage(text):
        if name == "ENV":
            for item in shlex.split(arguments):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def exec_form(text: str, instruction: str) -> list[str]:
    """The JSON-array arguments of the last ``instruction`` (``CMD``, ``HEALTHCHECK``)."""
    arguments = [args for name, args in final_stage(text) if name == instruction][-1]
    start = arguments.index("[")
    value = json.loads(arguments[start:])
    assert isinstance(value, list)
    return [str(part) for part in value]


def hadolint() -> str:
    found = Path(sys.executable).with_name("hadolint")
    return str(found) if found.exists() else (shutil.which("hadolint") or "hadolint")


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", str(path)], capture_output=True, text=True, timeout=60
    )


# --- the Dockerfile, linted ---------------------------------------------------------------
def test_the_dockerfile_passes_hadolint() -> None:
    result = lint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path: Path) -> None:
    """The lint above can fail: the seed's habits are caught."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install fastapi\nCMD uvicorn app:app\n")
    result = lint(bad)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3042", "DL3025"):
        assert rule in result.stdout


def test_the_image_runs_as_a_numeric_non_root_user_with_an_exec_form_cmd() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    stage = final_stage(text)
    users = [args for name, args in stage if name == "USER"]
    assert users and users[-1].isdigit() and users[-1] != "0"
    assert exec_form(text, "CMD") == ["python", "-m", "course_app"]
    assert sum(1 for name, _ in instructions(text) if name == "FROM") >= 2  # multi-stage


def test_no_secret_is_baked_into_the_image() -> None:
    env = image_env(DOCKERFILE.read_text(encoding="utf-8"))
    assert not {"JWT_SECRET", "DATABASE_URL", "REDIS_URL"} & set(env)
    assert set(env) - {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"} <= {
        name.upper() for name in Settings.model_fields
    }, "every app variable the image sets must be a setting the app reads"


def test_the_image_installs_the_app_dependencies_only() -> None:
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        import requirements_app
    finally:
        sys.path.pop(0)
    assert requirements_app.main(["--check"]) == 0, "run: make deploy/requirements-app.txt"
    listed = (ROOT / "deploy" / "requirements-app.txt").read_text(encoding="utf-8")
    assert "fastapi" in listed
    for tool in ("jupyterlab", "matplotlib", "hadolint", "python-jose", "pytest"):
        assert tool not in listed


# --- the image's command, run for real ------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def container_env(tmp_path: Path) -> dict[str, str]:
    """The image's ENV, plus what an orchestrator injects (secrets, database), on a free
    local port (the image binds 0.0.0.0:8000; a test binds 127.0.0.1 only)."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in Settings.model_fields and not key.startswith("PYTHON")
    }
    return {
        **inherited,
        **image_env(DOCKERFILE.read_text(encoding="utf-8")),
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "JWT_SECRET": SECRET,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        "ALLOWED_HOSTS": "127.0.0.1",
    }


@pytest.fixture
def migrated(container_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The migration Job's command, in the image's environment, before the rollout."""
    job = manifest("job-migrate.yaml")
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[0] == "python"
    result = subprocess.run(
        [sys.executable, *command[1:]],
        env=container_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return container_env


@pytest.fixture
def container(
    migrated: dict[str, str], tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    command = exec_form(DOCKERFILE.read_text(encoding="utf-8"), "CMD")
    process = subprocess.Popen(
        [sys.executable, *command[1:]],
        env=migrated,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{migrated['PORT']}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.communicate(timeout=5)[0] if process.poll() is not None else ""
                pytest.fail(f"the image's command did not serve /health:\n{output}")
            time.sleep(0.2)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_the_image_command_serves_the_migrated_app(
    container: tuple[subprocess.Popen[str], str],
) -> None:
    _, url = container
    assert httpx.get(f"{url}/ready", timeout=5).json()["status"] == "ready"
    products = httpx.get(f"{url}/api/products", timeout=5)
    assert products.status_code == 200
    assert products.json()["items"] == []
    # production mode, as in the image: no interactive docs
    assert httpx.get(f"{url}/docs", timeout=5).status_code == 404


def test_the_healthcheck_command_passes_against_it(
    container: tuple[subprocess.Popen[str], str], migrated: dict[str, str]
) -> None:
    command = exec_form(DOCKERFILE.read_text(encoding="utf-8"), "HEALTHCHECK")
    assert command[:2] == ["python", "-c"]
    code = command[2].replace(":8000/", f":{migrated['PORT']}/")  # the image's port, here
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr


def test_sigterm_shuts_the_image_command_down_gracefully(
    container: tuple[subprocess.Popen[str], str],
) -> None:
    process, _ = container
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=30)[0]
    assert process.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal
    events = [json.loads(line).get("event") for line in output.splitlines() if line.startswith("{")]
    assert "shutdown" in events  # the lifespan's shutdown ran
    assert "Traceback" not in output


def test_the_image_command_refuses_to_start_without_its_secrets(
    container_env: dict[str, str], tmp_path: Path
) -> None:
    env = {key: value for key, value in container_env.items() if key != "JWT_SECRET"}
    command = exec_form(DOCKERFILE.read_text(encoding="utf-8"), "CMD")
    result = subprocess.run(
        [sys.executable, *command[1:]],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "JWT_SECRET is required in production" in result.stderr


# --- Kubernetes ---------------------------------------------------------------------------
def manifest(name: str) -> dict[str, Any]:
    document = yaml.safe_load((K8S / name).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize("name", sorted(p.name for p in K8S.glob("*.yaml")))
def test_each_manifest_is_valid_for_kubernetes(name: str) -> None:
    kubernetes_validate.validate(manifest(name), K8S_VERSION, strict=True)


def test_strict_validation_rejects_a_misspelt_probe() -> None:
    """The validation above can fail: without strict, this typo would ship no probe."""
    deployment = manifest("deployment.yaml")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinessprobe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_the_probes_point_at_the_apps_health_endpoints_on_the_images_port() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    exposed = int([args for name, args in final_stage(text) if name == "EXPOSE"][-1])
    spec = manifest("deployment.yaml")["spec"]["template"]["spec"]
    [container] = spec["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    liveness = container["livenessProbe"]["httpGet"]
    readiness = container["readinessProbe"]["httpGet"]
    assert (liveness["path"], readiness["path"]) == ("/health", "/ready")
    assert ports[liveness["port"]] == ports[readiness["port"]] == exposed
    assert {"name": "WORKERS", "value": "1"} in container["env"]  # one process per container
    user = [args for name, args in final_stage(text) if name == "USER"][-1]
    assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": int(user)}
    service = manifest("service.yaml")
    assert service["spec"]["ports"][0]["targetPort"] in ports
    assert (
        service["spec"]["selector"]
        == manifest("deployment.yaml")["spec"]["selector"]["matchLabels"]
    )
