"""``tradebot api`` logs each request only if asked: ``--access-log`` or ``API_ACCESS_LOG``;
uvicorn's own lines are JSON lines of our handler (scrubbed), not uvicorn's plain text."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


START_S = 90
"""How long the server may take to answer (seconds on a quiet machine; much longer on a loaded
CI machine, where 30 s was once not enough)."""


def _served_output(tmp_path: Path, args: list[str], env: dict[str, str]) -> str:
    """What ``tradebot api`` printed (stdout and stderr) around two ``/healthz`` requests."""
    port = _free_port()
    output = tmp_path / "api.log"
    environment = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "var"),
        "REDIS_PREFIX": f"tradebot-test-{secrets.token_hex(4)}",
        **env,
    }
    environment.pop("PG_URL", None)
    command = [sys.executable, "-m", "tradebot.cli.main", "api", "--port", str(port), *args]
    with output.open("wb") as sink:
        process = subprocess.Popen(command, env=environment, stdout=sink, stderr=sink)
        try:
            deadline = time.monotonic() + START_S
            answered = 0
            while answered < 2 and time.monotonic() < deadline:
                assert process.poll() is None, output.read_text()
                try:
                    answered += httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
                except httpx.TransportError:
                    time.sleep(0.2)
            assert answered == 2, output.read_text()
        finally:
            process.terminate()
            process.wait(timeout=10)
    return output.read_text()


@pytest.mark.parametrize(
    ("args", "env", "logged"),
    [
        ([], {}, False),
        (["--access-log"], {}, True),
        ([], {"API_ACCESS_LOG": "true"}, True),
    ],
    ids=["default", "flag", "setting"],
)
def test_requests_are_logged_only_when_asked(tmp_path, args, env, logged):
    events = [line["event"] for line in _json_lines(_served_output(tmp_path, args, env))]
    assert any("Uvicorn running" in event for event in events)  # the server's own log shows
    assert any('"GET /healthz HTTP/1.1" 200' in event for event in events) is logged, events


def _json_lines(output: str) -> list[dict[str, str]]:
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines
    return [json.loads(line) for line in lines]


def test_uvicorn_logs_through_our_json_handler(tmp_path):
    # uvicorn's default logging printed plain text past the redaction, its tracebacks with the
    # SQL parameters of the failed statement in them.
    output = _served_output(tmp_path, ["--access-log"], {"LOG_LEVEL": "INFO"})
    loggers = {line["logger"] for line in _json_lines(output)}
    assert {"uvicorn.error", "uvicorn.access"} <= loggers, output


def test_a_sandbox_url_that_is_not_http_is_one_error_line_before_serving(tmp_path):
    environment = {**os.environ, "DATA_DIR": str(tmp_path / "var")}
    environment.pop("PG_URL", None)
    command = [sys.executable, "-m", "tradebot.cli.main", "api", "--sandbox-url", "ftp://sim"]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "tradebot: error: --sandbox-url must be an http(s) URL (got 'ftp://sim')"
    ]
