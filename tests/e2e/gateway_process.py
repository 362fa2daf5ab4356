"""Start, drive and stop the e2e test gateway (``tests/e2e/gateway/gateway.mjs``). Stdlib only.

The gateway is a Node process: a Wechaty puppet-service gRPC endpoint (TLS off) over a mock puppet,
plus a loopback HTTP/JSON control API. A python-wechaty client connects to it with::

    WECHATY_PUPPET_SERVICE_ENDPOINT=127.0.0.1:<grpc_port>   (gw.endpoint)
    WECHATY_PUPPET_SERVICE_TOKEN=<token>                    (gw.token)

(``gw.client_env()`` returns both.) Typical use::

    with GatewayProcess() as gw:             # npm ci if needed, node gateway.mjs, wait for READY
        gw.create_room("r1@chatroom", topic="团购群", members=[{"id": "alice", "name": "Alice"}])
        ... start the bot with gw.client_env() ...
        gw.wait_logged_in()
        mid = gw.say("r1@chatroom", "alice", "1. 苹果 2斤")
        replies = gw.wait_said(lambda s: len(s) >= 1)
        gw.kill(); gw.restart()              # SIGKILL, then the same ports again

Every control call raises :class:`GatewayError` (with the HTTP status and the gateway's message)
when the gateway answers with an error.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

GATEWAY_DIR = Path(__file__).resolve().parent / "gateway"
DEFAULT_TOKEN = "insecure_tuanbot_e2e"
DEFAULT_BOT_ID = "wxid_tuanbot"

Member = str | Mapping[str, Any]  # "wxid" or {"id": "wxid", "name": "昵称"}


class GatewayError(RuntimeError):
    """The gateway failed to install/start, or a control call was answered with an error."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def ensure_installed(gateway_dir: Path = GATEWAY_DIR, npm: str = "npm", timeout: float = 900) -> None:
    """Run ``npm ci`` in the gateway folder when its ``node_modules`` is missing."""
    gateway_dir = Path(gateway_dir)
    marker = gateway_dir / "node_modules" / "wechaty-puppet-service" / "package.json"
    if marker.exists():
        return
    # pytest-xdist workers may get here at once: one installs, the others wait for it and find it installed
    lock_path = Path(tempfile.gettempdir()) / f"tuanbot-npm-ci-{zlib.crc32(str(gateway_dir).encode()):08x}.lock"
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not marker.exists():
                _npm_ci(gateway_dir, marker, npm, timeout)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _npm_ci(gateway_dir: Path, marker: Path, npm: str, timeout: float) -> None:
    if not (gateway_dir / "package-lock.json").exists():
        raise GatewayError(f"{gateway_dir} has no package-lock.json; `npm ci` cannot install the gateway")
    npm_path = shutil.which(npm)
    if npm_path is None:
        raise GatewayError(f"npm not found (looked for {npm!r} on PATH); install Node.js >= 16 with npm")
    try:
        proc = subprocess.run(
            [npm_path, "ci", "--no-audit", "--no-fund"],
            cwd=gateway_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise GatewayError(f"`npm ci` in {gateway_dir} timed out after {timeout:.0f}s") from exc
    if proc.returncode != 0 or not marker.exists():
        lines = (proc.stdout + "\n" + proc.stderr).strip().splitlines()
        tail = "\n".join(lines if len(lines) <= 30 else [*lines[:15], "...", *lines[-10:]])
        raise GatewayError(f"`npm ci` in {gateway_dir} failed (exit {proc.returncode}):\n{tail}")


class GatewayProcess:
    """One gateway process; remembers its ports so :meth:`restart` comes back on the same ones."""

    def __init__(
        self,
        grpc_port: int = 0,
        http_port: int = 0,
        token: str = DEFAULT_TOKEN,
        bot_id: str = DEFAULT_BOT_ID,
        bot_name: str = "tuanbot",
        *,
        self_echo: bool = True,
        heartbeat_seconds: float = 15,
        gateway_dir: Path = GATEWAY_DIR,
        node: str = "node",
        npm: str = "npm",
        install: bool = True,
        ready_timeout: float = 30.0,
        request_timeout: float = 10.0,
        log_path: str | Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.grpc_port = grpc_port
        self.http_port = http_port
        self.token = token
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.self_echo = self_echo
        self.heartbeat_seconds = heartbeat_seconds
        self.gateway_dir = Path(gateway_dir)
        self.node = node
        self.npm = npm
        self.install = install
        self.ready_timeout = ready_timeout
        self.request_timeout = request_timeout
        self.extra_env = dict(env or {})
        self._own_log = log_path is None
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="tuanbot-gateway-", suffix=".log")
            os.close(fd)
            log_path = name
        self.log_path = Path(log_path)
        self._proc: subprocess.Popen[str] | None = None
        self._log_file: Any | None = None
        self._stdout_lines: list[str] = []
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def client_env(self) -> dict[str, str]:
        """The two variables python-wechaty reads to reach this gateway."""
        return {"WECHATY_PUPPET_SERVICE_ENDPOINT": self.endpoint, "WECHATY_PUPPET_SERVICE_TOKEN": self.token}

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> GatewayProcess:
        """Start the gateway and wait for its READY line (ports 0 are resolved and remembered)."""
        if self.is_running():
            raise GatewayError("gateway already running")
        if self.install:
            ensure_installed(self.gateway_dir, self.npm)
        node = shutil.which(self.node)
        if node is None:
            raise GatewayError(f"node not found (looked for {self.node!r} on PATH)")
        cmd = [
            node,
            "gateway.mjs",
            "--grpc-port",
            str(self.grpc_port),
            "--http-port",
            str(self.http_port),
            "--token",
            self.token,
            "--bot-id",
            self.bot_id,
            "--bot-name",
            self.bot_name,
            "--heartbeat-seconds",
            str(self.heartbeat_seconds),
        ]
        if not self.self_echo:
            cmd.append("--no-self-echo")
        env = {**os.environ, **self.extra_env}
        self._log_file = open(self.log_path, "a", encoding="utf-8")
        self._log_file.write(f"--- start {time.strftime('%H:%M:%S')} {' '.join(cmd[1:])}\n")
        self._log_file.flush()
        self._ready.clear()
        self._stdout_lines = []
        self._proc = subprocess.Popen(
            cmd,
            cwd=self.gateway_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
            encoding="utf-8",
            start_new_session=True,  # a Ctrl-C in the test runner does not hit it; we stop it ourselves
        )
        self._reader = threading.Thread(target=self._read_stdout, args=(self._proc,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.ready_timeout
        while not self._ready.wait(0.05):
            if self._proc.poll() is not None:
                self._reader.join(1)
                raise GatewayError(f"gateway exited with {self._proc.returncode} before READY:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise GatewayError(f"gateway not READY within {self.ready_timeout}s:\n{self.log_tail()}")
        return self

    def _read_stdout(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            self._stdout_lines.append(line)
            if line.startswith("READY ") and not self._ready.is_set():
                fields = dict(kv.split("=", 1) for kv in line.split()[1:])
                self.grpc_port = int(fields["grpc"])
                self.http_port = int(fields["http"])
                self._ready.set()

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait, SIGKILL if it lingers. Returns the exit code (None if it was not running)."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        return self._finish()

    def kill(self) -> int | None:
        """SIGKILL (the 'gateway dropped dead' case): no goodbye to the connected client."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(5)
        return self._finish()

    def _finish(self) -> int | None:
        assert self._proc is not None
        code = self._proc.returncode
        if self._reader is not None:
            self._reader.join(2)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        if self._log_file is not None:
            self._log_file.write(f"--- exit {code} {time.strftime('%H:%M:%S')}\n")
            self._log_file.close()
            self._log_file = None
        self._proc = None
        return code

    def restart(self, *, kill: bool = False, wait_ports: float = 10.0) -> GatewayProcess:
        """Stop (or SIGKILL) if running, then start again on the same gRPC and HTTP ports.

        The new process has a fresh mock world: rooms, contacts and the said-list are empty again.
        """
        if self.is_running():
            if kill:
                self.kill()
            else:
                self.stop()
        deadline = time.monotonic() + wait_ports
        while not (_port_free(self.grpc_port) and _port_free(self.http_port)):
            if time.monotonic() > deadline:
                raise GatewayError(f"ports {self.grpc_port}/{self.http_port} still busy after {wait_ports}s")
            time.sleep(0.05)
        return self.start()

    def close(self) -> None:
        """Stop the process and delete the log file if this object created it."""
        self.stop()
        if self._own_log:
            try:
                self.log_path.unlink()
            except OSError:
                pass

    def __enter__(self) -> GatewayProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------------ HTTP plumbing

    def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None
    ) -> Any:
        url = self.base_url + path
        if query:
            from urllib.parse import urlencode

            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.request_timeout) as resp:
                return json.loads(resp.read().decode("utf-8") or "{}")
        except urllib.error.HTTPError as exc:
            try:
                msg = json.loads(exc.read().decode("utf-8")).get("error", exc.reason)
            except (ValueError, AttributeError):
                msg = str(exc.reason)
            raise GatewayError(f"{method} {path}: {exc.code} {msg}", status=exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            raise GatewayError(f"{method} {path}: gateway unreachable ({exc})") from exc

    # ------------------------------------------------------------------ control API

    def health(self) -> dict[str, Any]:
        """{ok, grpcPort, httpPort, token, botId, loggedIn, puppetActive, clientStarts, clientStops,
        rooms, contacts, said}"""
        return self.request("GET", "/health")

    def state(self) -> dict[str, Any]:
        """{botId, loggedIn, contacts: [{id, name}], rooms: [{id, topic, memberIds, ownerId}], invitations: [...]}"""
        return self.request("GET", "/state")

    def add_contacts(self, *contacts: Member) -> list[dict[str, Any]]:
        items = [c if isinstance(c, Mapping) else {"id": c} for c in contacts]
        return self.request("POST", "/contacts", {"contacts": items})["contacts"]

    def create_room(
        self,
        room_id: str,
        topic: str | None = None,
        members: Iterable[Member] = (),
        owner_id: str | None = None,
        with_bot: bool = True,
    ) -> dict[str, Any]:
        """Room ids must contain '@'. Unknown members are created as contacts (name = id unless given)."""
        body: dict[str, Any] = {"id": room_id, "members": list(members), "withBot": with_bot}
        if topic is not None:
            body["topic"] = topic
        if owner_id is not None:
            body["ownerId"] = owner_id
        return self.request("POST", "/rooms", body)

    def say(
        self,
        room_id: str,
        talker_id: str,
        text: str,
        mention_ids: Sequence[str] = (),
        message_id: str | None = None,
        timestamp_ms: int | None = None,
        message_type: str | int | None = None,
    ) -> str:
        """A member says text in a room; returns the message id. Passing an existing message_id
        (with the same text/talker/room) delivers that same message again."""
        return str(self.say_raw(room_id, talker_id, text, mention_ids, message_id, timestamp_ms, message_type)["id"])

    def say_raw(
        self,
        room_id: str,
        talker_id: str,
        text: str,
        mention_ids: Sequence[str] = (),
        message_id: str | None = None,
        timestamp_ms: int | None = None,
        message_type: str | int | None = None,
    ) -> dict[str, Any]:
        """Like :meth:`say` but returns the gateway's answer: {id, duplicate, at} (``at``: hi-res epoch ms
        when the message event was emitted; compare with the ``at`` of said-list items)."""
        body: dict[str, Any] = {"roomId": room_id, "talkerId": talker_id, "text": text, "mentionIds": list(mention_ids)}
        if message_id is not None:
            body["id"] = message_id
        if timestamp_ms is not None:
            body["timestamp"] = timestamp_ms
        if message_type is not None:
            body["type"] = message_type
        return dict(self.request("POST", "/say", body))

    def say_private(self, talker_id: str, text: str, message_id: str | None = None) -> str:
        """A contact writes to the bot directly (not in a room)."""
        body: dict[str, Any] = {"talkerId": talker_id, "text": text, "toId": self.bot_id}
        if message_id is not None:
            body["id"] = message_id
        return self.request("POST", "/say", body)["id"]

    def app_message(
        self,
        room_id: str | None,
        talker_id: str,
        xml: str,
        message_id: str | None = None,
        message_type: str | int = "GroupNote",
    ) -> str:
        """A member posts an app message whose text() is exactly ``xml`` (e.g. the native 接龙 XML,
        with or without the 'wxid:\\n' prefix). Default puppet type GroupNote(10), which python-wechaty
        0.10.7 sees as MESSAGE_TYPE_UNSPECIFIED (0). With ``room_id`` None it is sent privately to the bot
        (e.g. a forwarded chat record, type "ChatHistory")."""
        body: dict[str, Any] = {"talkerId": talker_id, "xml": xml, "type": message_type}
        body.update({"roomId": room_id} if room_id is not None else {"toId": self.bot_id})
        if message_id is not None:
            body["id"] = message_id
        return self.request("POST", "/app-message", body)["id"]

    def login(self) -> dict[str, Any]:
        """Log the bot user in again (after logout). Needs a client to have started the puppet."""
        return self.request("POST", "/login", {})

    def logout(self, reason: str = "logout by test") -> dict[str, Any]:
        return self.request("POST", "/logout", {"reason": reason})

    def room_join(
        self,
        room_id: str,
        inviter_id: str,
        invitee_ids: Sequence[str] | None = None,
        create_if_missing: bool = False,
        topic: str | None = None,
        members: Iterable[Member] = (),
    ) -> dict[str, Any]:
        """``room-join`` event; invitees default to the bot (the bot was added to the room)."""
        body: dict[str, Any] = {
            "roomId": room_id,
            "inviterId": inviter_id,
            "createIfMissing": create_if_missing,
            "members": list(members),
        }
        if invitee_ids is not None:
            body["inviteeIds"] = list(invitee_ids)
        if topic is not None:
            body["topic"] = topic
        return self.request("POST", "/room-join", body)

    def room_leave(
        self, room_id: str, removee_ids: Sequence[str] | None = None, remover_id: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"roomId": room_id}
        if removee_ids is not None:
            body["removeeIds"] = list(removee_ids)
        if remover_id is not None:
            body["removerId"] = remover_id
        return self.request("POST", "/room-leave", body)

    def room_invitation(
        self,
        room_id: str,
        inviter_id: str,
        topic: str | None = None,
        members: Iterable[Member] = (),
        invitation_id: str | None = None,
    ) -> str:
        """``room-invite`` event for the bot; returns the invitation id. When the client accepts it,
        the bot joins the room and a ``room-join`` event (bot as invitee) follows."""
        body: dict[str, Any] = {"roomId": room_id, "inviterId": inviter_id, "members": list(members)}
        if topic is not None:
            body["topic"] = topic
        if invitation_id is not None:
            body["id"] = invitation_id
        return self.request("POST", "/room-invitation", body)["invitationId"]

    def invitations(self) -> list[dict[str, Any]]:
        """[{id, roomId, accepted: ms|None}]"""
        return self.request("GET", "/invitations")["invitations"]

    def room_topic(self, room_id: str, topic: str, changer_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"roomId": room_id, "topic": topic}
        if changer_id is not None:
            body["changerId"] = changer_id
        return self.request("POST", "/room-topic", body)

    def said(self, room_id: str | None = None, since_ms: int | None = None) -> list[dict[str, Any]]:
        """Everything the bot sent: [{id, kind, conversationId, roomId, toId, text, mentionIds, extra, time}]
        (time: ms since epoch, gateway clock)."""
        return self.request("GET", "/said", query={"roomId": room_id, "since": since_ms})["said"]

    def clear_said(self) -> int:
        return self.request("DELETE", "/said")["cleared"]

    # ------------------------------------------------------------------ waiting helpers

    def wait_said(
        self,
        until: Callable[[list[dict[str, Any]]], bool],
        room_id: str | None = None,
        timeout: float = 5.0,
        interval: float = 0.01,
    ) -> list[dict[str, Any]]:
        """Poll the said-list until ``until(said)`` is true; returns it (GatewayError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            items = self.said(room_id)
            if until(items):
                return items
            if time.monotonic() > deadline:
                raise GatewayError(f"wait_said timed out after {timeout}s; said so far: {items!r}")
            time.sleep(interval)

    def wait_logged_in(self, timeout: float = 20.0, interval: float = 0.05) -> dict[str, Any]:
        """Wait until a client has started the puppet and the bot is logged in (gateway side).
        The client gets its `login` event a few ms later, once its event stream is connected."""
        deadline = time.monotonic() + timeout
        while True:
            h = self.health()
            if h["loggedIn"] and h["puppetActive"]:
                return h
            if time.monotonic() > deadline:
                raise GatewayError(f"bot not logged in within {timeout}s: {h!r}")
            time.sleep(interval)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
