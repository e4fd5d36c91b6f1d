"""The soak's processes under a supervisor: each life of a process writes its output (JSON logs
on stderr) to a file of its own; a process the soak SIGKILLs, or one that dies by itself, is
started again after a delay, as systemd or Kubernetes would. Each process leads its own process
group, so a Ctrl-C in the terminal reaches only the soak, which then kills every group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

CRASH_RESTART_S = 1.0
"""How long the supervisor waits before starting a process that died by itself."""


@dataclass(slots=True)
class Life:
    """One start of a process: its log and how it ended."""

    log: Path
    started: float
    """Wall-clock time (``time.time()``) of the start."""
    ended: float | None = None
    exit_code: int | None = None
    how: str = ""
    """How it ended: ``crash`` (by itself), ``killed`` (the soak's SIGKILL) or ``stopped``
    (the soak's SIGTERM at the end)."""


@dataclass(slots=True)
class Managed:
    name: str
    argv: list[str]
    env: dict[str, str]
    lives: list[Life] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    restart_at: float | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def crashes(self) -> int:
        return sum(1 for life in self.lives if life.how == "crash")


class Supervisor:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: dict[str, Managed] = {}
        self.restarting = True
        """False once the soak winds down: nothing is started again after that."""

    def add(self, name: str, argv: list[str], env: dict[str, str]) -> Managed:
        managed = self.processes[name] = Managed(name, argv, env)
        self._start(managed)
        return managed

    def _start(self, managed: Managed) -> None:
        log = self.log_dir / f"{managed.name}.{len(managed.lives)}.log"
        with log.open("wb") as out:  # the child keeps its own descriptor
            managed.proc = subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
                managed.argv,
                env=managed.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        managed.lives.append(Life(log, time.time()))
        managed.restart_at = None

    def _ended(self, managed: Managed, how: str) -> None:
        assert managed.proc is not None
        life = managed.lives[-1]
        life.ended, life.exit_code, life.how = time.time(), managed.proc.wait(), how
        managed.proc = None

    def poll(self) -> None:
        """Notice processes that died, and start those whose restart is due."""
        now = time.time()
        for managed in self.processes.values():
            if managed.proc is not None and managed.proc.poll() is not None:
                self._ended(managed, "crash")
                managed.restart_at = now + CRASH_RESTART_S
            if managed.proc is None and self.restarting and (managed.restart_at or 0) <= now:
                self._start(managed)

    def kill(self, name: str, restart_after_s: float) -> bool:
        """SIGKILL the process (its whole group) and start it again after a delay; False if
        it was not running."""
        managed = self.processes[name]
        if not managed.alive:
            return False
        assert managed.proc is not None
        _signal_group(managed.proc, signal.SIGKILL)
        self._ended(managed, "killed")
        managed.restart_at = time.time() + restart_after_s
        return True

    def terminate_all(self, timeout_s: float = 30.0) -> dict[str, int | None]:
        """SIGTERM every process (a graceful stop), SIGKILL what is left after ``timeout_s``;
        nothing is started again. Returns each process's exit code."""
        self.restarting = False
        running = [m for m in self.processes.values() if m.alive]
        for managed in running:
            assert managed.proc is not None
            _signal_group(managed.proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for managed in running:
            assert managed.proc is not None
            try:
                managed.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(managed.proc, signal.SIGKILL)
            self._ended(managed, "stopped")
        return {m.name: m.lives[-1].exit_code if m.lives else None for m in running}

    def describe(self) -> list[str]:
        """One line per life of every process: when it started and ended, and how."""
        return [
            f"{life.started:.3f} {name} life {i}: {life.how or 'running'} "
            f"at {life.ended or 0:.3f} (exit {life.exit_code}) {life.log.name}"
            for name, managed in self.processes.items()
            for i, life in enumerate(managed.lives)
        ]

    def close(self) -> None:
        """Kill whatever still runs (on any way out, Ctrl-C included)."""
        self.restarting = False
        for managed in self.processes.values():
            if managed.proc is not None:
                _signal_group(managed.proc, signal.SIGKILL)
                managed.proc.wait()
                managed.proc = None


def _signal_group(proc: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(proc.pid, signum)
