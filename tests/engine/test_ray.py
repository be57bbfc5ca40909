"""Render nodes as Ray actors on a real two-node Ray cluster, all on loopback: each node actor runs
on the Ray node its ``host`` names and sends its own NDI; SIGKILL one and the spare, on the other
Ray node, takes its canvas over under the same NDI name; then it comes home."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.devices.test_ndi import Receiver, check_frames, consecutive_run
from tests.engine.helpers import tiny_stage
from tests.waiting import wait_for
from vpstage.frame_master import FrameLoop, PatternSource
from vpstage.patterns import PatternPainter, PatternSpec
from vpstage.stage import Stage

ray = pytest.importorskip("ray", reason="ray is not installed")
pytest.importorskip("NDIlib", reason="ndi-python is not installed")

from render.node.cluster import default_outputs, make_node_cluster  # noqa: E402
from render.node.ray_launcher import REPO_ROOT, worker_pythonpath  # noqa: E402

pytestmark = [pytest.mark.network, pytest.mark.slow]


def ray_cli(*args: str) -> None:
    env = dict(os.environ, PYTHONPATH=worker_pythonpath(), RAY_USAGE_STATS_ENABLED="0")
    subprocess.run([sys.executable, "-m", "render.node.ray_loopback", *args], cwd=REPO_ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def loopback_cluster() -> Iterator[str]:
    """A head and a second Ray node on 127.0.0.1, told apart by their host resources."""
    address = f"127.0.0.1:{free_port()}"
    common = ("--node-ip-address", "127.0.0.1", "--num-cpus", "2", "--disable-usage-stats")
    try:
        ray_cli("start", "--head", "--port", address.split(":")[1], "--include-dashboard=false",
                "--resources", '{"vpstage-host:stage-a": 10}', *common)
        ray_cli("start", "--address", address, "--resources", '{"vpstage-host:stage-b": 10}', *common)
        yield address
    finally:
        ray_cli("stop", "--force")




def stage_on(address: str) -> Stage:
    stage = tiny_stage()
    project = stage.project.model_copy(deep=True)
    project.cluster.backend = "ray"
    project.cluster.address = address
    hosts = {"n1": "stage-a", "n2": "stage-b", "n3": "stage-b"}
    for node in project.nodes:
        node.host = hosts[node.name]
    return Stage.from_project(project, stage.layout.base_dir)


def outputs(loop: FrameLoop) -> dict[str, dict[str, object]]:
    return {str(o["canvas"]): o for o in loop.report()["outputs"] if o.get("address")}


def ray_host(loop: FrameLoop, node: str) -> str:
    """The ``vpstage-host:`` resource of the Ray node the node's actor runs on."""
    process = loop.cluster.process(node)
    node_id = ray.get(process.actor.ray_node.remote(), timeout=30)  # type: ignore[union-attr]
    resources = next(n["Resources"] for n in ray.nodes() if n["NodeID"] == node_id)
    return next(k.split(":", 1)[1] for k in resources if k.startswith("vpstage-host:"))


def test_node_actors_send_their_own_ndi_and_fail_over_across_ray_nodes(loopback_cluster: str) -> None:
    stage = stage_on(loopback_cluster)
    prefix = f"vpstage-ray-{uuid.uuid4().hex[:6]}"
    loop = FrameLoop(stage, PatternSource(stage, PatternSpec(name="sync")),
                     make_node_cluster(stage, outputs=default_outputs(stage, prefix=prefix)), restart_retry_s=0.5)
    painter = PatternPainter(stage.layout)
    downs: list[tuple[str, str]] = []
    loop.events.node_down.connect(lambda node, why: downs.append((node, why)))
    try:
        loop.cluster.start()
        assert ray.util.get_node_ip_address() == "127.0.0.1"
        assert [ray_host(loop, n) for n in ("n1", "n2", "n3")] == ["stage-a", "stage-b", "stage-b"]
        loop.start()
        assert wait_for(lambda: {"front", "side"} <= set(outputs(loop)), 60)
        before = outputs(loop)
        assert before["front"]["node"] == "n1" and before["side"]["node"] == "n2"
        for canvas in ("front", "side"):
            receiver = Receiver(str(before[canvas]["address"]))
            check_frames(consecutive_run(receiver, loop), loop, painter, canvas)
            receiver.close()
        killed = loop.cluster.process("n1").pid  # type: ignore[union-attr]
        assert killed is not None and killed != os.getpid()
        os.kill(killed, signal.SIGKILL)
        assert wait_for(lambda: outputs(loop).get("front", {}).get("node") == "n3", 60), "the spare never took over"
        taken = outputs(loop)["front"]
        assert taken["name"] == before["front"]["name"]  # the same NDI source name, now from the spare
        receiver = Receiver(str(taken["address"]))
        check_frames(consecutive_run(receiver, loop), loop, painter, "front")
        receiver.close()
        assert wait_for(lambda: outputs(loop).get("front", {}).get("node") == "n1", 120), "n1 never came home"
        assert outputs(loop)["front"]["name"] == before["front"]["name"]
    finally:
        loop.stop()
        loop.close()
    assert downs[0][0] == "n1" and "ended" in downs[0][1]
    outage, = loop.failover.outages
    assert outage.covered_by == "n3" and outage.recovery_ms is not None and outage.back_ns is not None


def test_local_ray_workers_keep_the_inherited_pythonpath(monkeypatch: pytest.MonkeyPatch) -> None:
    """Packages installed outside site-packages (PYTHONPATH) stay importable in the actors."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["/opt/extra/site", str(REPO_ROOT), ""]))
    assert worker_pythonpath().split(os.pathsep) == [str(REPO_ROOT), "/opt/extra/site"]
    monkeypatch.delenv("PYTHONPATH")
    assert worker_pythonpath() == str(REPO_ROOT)
    assert Path(REPO_ROOT, "render", "node", "ray_loopback.py").is_file()


def test_a_cluster_beyond_this_host_is_not_joined_without_authentication(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    from render.node.ray_launcher import ClusterRefused, authenticate

    for var in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.setenv(var, "")  # recorded, so the test leaves the environment as it found it
        monkeypatch.delenv(var)
    with pytest.raises(ClusterRefused, match="auth_token_file"):
        authenticate("10.0.0.5:6379", None, allow_unauthenticated=False)
    authenticate("10.0.0.5:6379", None, allow_unauthenticated=True)  # the project opted in
    assert "RAY_AUTH_MODE" not in os.environ
    token = tmp_path / "ray_token"
    token.write_text("s3cret\n")
    authenticate("10.0.0.5:6379", token, allow_unauthenticated=False)
    assert (os.environ["RAY_AUTH_MODE"], os.environ["RAY_AUTH_TOKEN_PATH"]) == ("token", str(token))
    monkeypatch.delenv("RAY_AUTH_MODE")
    authenticate(None, None, allow_unauthenticated=False)  # a local Ray: a fresh token of its own
    assert os.environ["RAY_AUTH_MODE"] == "token" and len(os.environ["RAY_AUTH_TOKEN"]) == 64
