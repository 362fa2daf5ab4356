"""E2E fixtures: the test gateway (Node) and `tuanbot run` as real processes, torn down after use.

Without node/npm the tests skip on a developer's machine and fail under CI=true (`service_missing`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CORPUS, service_missing
from tests.e2e.bot_process import BotProcess, e2e_config
from tests.e2e.gateway_process import GatewayError, GatewayProcess

LEADER = {"id": "wxid_zhang", "name": "张姐"}
MEMBERS = [
    LEADER,
    {"id": "wxid_wang", "name": "王阿姨"},
    {"id": "wxid_li", "name": "李姐"},
    {"id": "wxid_he", "name": "何姐"},
]

#: every served group of the shared bot; each test plays in its own room
SERVED = [
    "接龙测试群",
    "私聊测试群",
    "原生接龙群",
    "闲聊测试群",
    "自言自语群",
    "重复投递群",
    "邀请进群",
    "直接拉群",
    "改名测试群",
    "旁听群",
    "问答测试群",
]


def corpus_xml(name: str = "xml_001.xml") -> str:
    """A corpus sample without its leading `# ` provenance lines (the rest verbatim, `wxid:\\n` prefix included)."""
    path = CORPUS / name
    if not path.exists():
        pytest.fail(f"corpus sample {path} is missing")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    while lines and lines[0].startswith("# "):
        lines.pop(0)
    return "".join(lines)


def _need_node() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        service_missing("node/npm for the e2e gateway")


def start_gateway(log_dir: Path, **kwargs: object) -> GatewayProcess:
    _need_node()
    try:
        return GatewayProcess(log_path=log_dir / "gateway.log", **kwargs).start()  # type: ignore[arg-type]
    except GatewayError as exc:
        pytest.fail(f"the e2e gateway did not start: {exc}")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks (`--dist loadgroup`)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist, the tests of one module that share its gateway and bot (module fixtures below) run on one
    worker, so each module starts them once, as in a plain run, instead of once per worker."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and {"gateway", "bot"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gw = start_gateway(tmp_path_factory.mktemp("gateway"))
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture(scope="module")
def bot(gateway: GatewayProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """One `tuanbot run` serving every group in SERVED, connected and logged in."""
    groups = [{"name": name, "leaders": [LEADER["name"]]} for name in SERVED]
    proc = BotProcess(tmp_path_factory.mktemp("bot"), e2e_config(groups), gateway.client_env()).start()
    try:
        proc.wait_event("channel_connected", timeout=30)
        yield proc
    finally:
        code = proc.stop()
        assert code == 0, f"tuanbot run exited {code} on SIGTERM:\n{proc.tail()}"


def new_room(gw: GatewayProcess, room_id: str, topic: str, *, with_bot: bool = True) -> str:
    gw.create_room(room_id, topic=topic, members=MEMBERS, with_bot=with_bot)
    return room_id
