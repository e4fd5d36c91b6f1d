"""``python -m tools.release``: build a release once, prove it on paper, promote exactly it to
live, and roll back to the previous one (the Makefile's ``deploy-paper``, ``deploy-live`` and
``rollback``). A tool of the repo, not of the product (it is not in the wheel).

The state lives in one folder (``--state``, ``.deploy/``): ``releases.json`` (the ledger),
``artifacts/<release>/`` (each wheel, kept as built), ``canaries/`` (each canary's result) and
one virtual environment per stage, ``paper/`` and ``live/``.

- ``deploy-paper``: build the wheel of the work tree (``pip wheel``; ``SOURCE_DATE_EPOCH``, by
  default the commit's time, makes the same commit build the same bytes, so it is recorded
  once), record it with its sha256 and commit, install it in ``paper/`` and run the canary
  there: ``tradebot paper`` replays a bundled day through the live run loop; the release's
  record gets the canary's run id and whether it passed (exit 0, a result with fills).
- ``promote`` (``deploy-live``): with ``PROMOTE_CONFIRM=I_ACKNOWLEDGE_RISK`` and ``PAPER_MODE``
  not ``true``, install in ``live/`` the recorded wheel of a release (the newest one by
  default) whose canary passed, after checking its sha256: never a rebuild.
- ``rollback``: the same, for the release promoted before the current one.

Every promotion and rollback is appended to the ledger with its time, so the current and the
previous live release are read from it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CONFIRM = "I_ACKNOWLEDGE_RISK"
LEDGER = "releases.json"
CANARY_DAYS = 1
REPO = Path(__file__).resolve().parents[1]


class ReleaseError(Exception):
    """A refusal: the message says what to do instead."""


@dataclass
class Canary:
    run_id: str
    passed: bool
    at: str
    detail: str


@dataclass
class Release:
    id: str
    version: str
    sha256: str
    wheel: str
    """The wheel's path inside the state folder."""
    commit: str
    built_at: str
    canary: Canary | None = None


@dataclass
class Promotion:
    release: str
    at: str
    kind: str
    """``promote`` or ``rollback``."""


@dataclass
class Ledger:
    releases: list[Release] = field(default_factory=list)
    promotions: list[Promotion] = field(default_factory=list)

    @classmethod
    def load(cls, state: Path) -> Ledger:
        path = state / LEDGER
        if not path.exists():
            return cls()
        raw: dict[str, Any] = json.loads(path.read_text())
        releases = [
            Release(**{**r, "canary": Canary(**r["canary"]) if r.get("canary") else None})
            for r in raw["releases"]
        ]
        return cls(releases, [Promotion(**p) for p in raw["promotions"]])

    def save(self, state: Path) -> None:
        state.mkdir(parents=True, exist_ok=True)
        path = state / LEDGER
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n")
        temporary.replace(path)  # a crash leaves the old ledger or the new one, never half

    def find(self, release_id: str) -> Release:
        for release in self.releases:
            if release.id == release_id:
                return release
        raise ReleaseError(f"no release {release_id!r} in the ledger")

    def _live_stack(self) -> list[str]:
        """The promoted releases, oldest first, with those rolled back from taken off: its
        top is live, the one under it is what a rollback returns to."""
        stack: list[str] = []
        for promotion in self.promotions:
            if promotion.kind == "rollback":
                stack.pop()
            else:
                stack.append(promotion.release)
        return stack

    def live(self) -> Release | None:
        stack = self._live_stack()
        return self.find(stack[-1]) if stack else None

    def previous_live(self) -> Release:
        """The release that was live before the current one."""
        stack = self._live_stack()
        if len(stack) < 2:
            raise ReleaseError("no earlier promoted release to roll back to")
        return self.find(stack[-2])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    # Fixed commands of ours (git, pip, venv, the installed tradebot), no shell, no input.
    return subprocess.run(command, text=True, **options)  # noqa: S603


def _git(source: Path, *args: str) -> str:
    done = _run(["git", *args], cwd=source, capture_output=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def build(state: Path, source: Path = REPO) -> Release:
    """The wheel of ``source``, recorded once: a build whose bytes are already in the ledger
    returns that release."""
    ledger = Ledger.load(state)
    commit = _git(source, "rev-parse", "HEAD") or "unknown"
    if _git(source, "status", "--porcelain", "--untracked-files=no"):
        commit += "-dirty"
    epoch = os.environ.get("SOURCE_DATE_EPOCH") or _git(source, "log", "-1", "--format=%ct")
    env = {**os.environ, **({"SOURCE_DATE_EPOCH": epoch} if epoch else {})}
    with tempfile.TemporaryDirectory() as out:
        _run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, str(source)],
            env=env,
            check=True,
        )
        (wheel,) = Path(out).glob("*.whl")
        sha = _sha256(wheel)
        for release in ledger.releases:
            if release.sha256 == sha:
                return release
        version = wheel.name.split("-")[1]
        release_id = f"{version}-{sha[:12]}"
        target = state / "artifacts" / release_id / wheel.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(wheel, target)
    release = Release(release_id, version, sha, str(target.relative_to(state)), commit, _now())
    ledger.releases.append(release)
    ledger.save(state)
    return release


def install(state: Path, release: Release, env: Path, *, no_deps: bool = False) -> None:
    """Put exactly the recorded wheel of ``release`` in the virtual environment ``env``
    (made if missing), after checking it is the bytes that were recorded."""
    wheel = state / release.wheel
    if not wheel.exists() or _sha256(wheel) != release.sha256:
        raise ReleaseError(
            f"the artifact of {release.id} is missing or altered ({wheel}): build a new release"
        )
    if not (env / "bin" / "python").exists():
        _run([sys.executable, "-m", "venv", str(env)], check=True)
    command = [str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--force-reinstall"]
    command += ["--no-deps"] if no_deps else []
    _run([*command, str(wheel)], check=True)


def canary(state: Path, release: Release, env: Path) -> Canary:
    """Replay a bundled day in paper mode through the live run loop of ``env``'s install;
    recorded on the release."""
    run_id = f"canary-{release.id}"
    folder = state / "canaries" / release.id
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    result = folder / "result.json"
    command = [str(env / "bin" / "tradebot"), "paper", "--days", str(CANARY_DAYS)]
    command += ["--run-id", run_id, "--json", str(result)]
    environment = {**os.environ, "DATA_DIR": str(folder / "var"), "PAPER_MODE": "true"}
    done = _run(command, cwd=folder, env=environment, capture_output=True, check=False)
    (folder / "output.txt").write_text(done.stdout + done.stderr)
    fills = json.loads(result.read_text()).get("fills", 0) if result.exists() else 0
    passed = done.returncode == 0 and fills > 0
    detail = (
        f"{fills} fills"
        if passed
        else f"exit {done.returncode}, {fills} fills: {done.stderr[-300:]}"
    )
    outcome = Canary(run_id, passed, _now(), detail)
    ledger = Ledger.load(state)
    ledger.find(release.id).canary = outcome
    ledger.save(state)
    return outcome


def deploy_paper(state: Path, source: Path = REPO, *, no_deps: bool = False) -> Release:
    release = build(state, source)
    install(state, release, state / "paper", no_deps=no_deps)
    outcome = canary(state, release, state / "paper")
    if not outcome.passed:
        raise ReleaseError(f"the paper canary of {release.id} failed: {outcome.detail}")
    return Ledger.load(state).find(release.id)


def _require_live_allowed(confirm: str | None, paper_mode: str | None) -> None:
    if confirm != CONFIRM:
        raise ReleaseError(f"refused: set PROMOTE_CONFIRM={CONFIRM} to trade real money")
    if (paper_mode or "").lower() == "true":
        raise ReleaseError("refused: PAPER_MODE=true (unset it, or set it to false, for live)")


def _go_live(state: Path, ledger: Ledger, release: Release, kind: str, no_deps: bool) -> None:
    install(state, release, state / "live", no_deps=no_deps)
    ledger.promotions.append(Promotion(release.id, _now(), kind))
    ledger.save(state)


def promote(
    state: Path,
    release_id: str | None,
    *,
    confirm: str | None,
    paper_mode: str | None,
    no_deps: bool = False,
) -> Release:
    """Install in ``live/`` the release ``release_id`` (default: the newest), which must have
    passed its paper canary."""
    _require_live_allowed(confirm, paper_mode)
    ledger = Ledger.load(state)
    if not ledger.releases:
        raise ReleaseError("no release yet: run `make deploy-paper` first")
    release = ledger.find(release_id) if release_id else ledger.releases[-1]
    if release.canary is None or not release.canary.passed:
        said = "never ran" if release.canary is None else f"failed ({release.canary.detail})"
        raise ReleaseError(
            f"refused: the paper canary of {release.id} {said}: `make deploy-paper` first"
        )
    _go_live(state, ledger, release, "promote", no_deps)
    return release


def rollback(
    state: Path, *, confirm: str | None, paper_mode: str | None, no_deps: bool = False
) -> Release:
    """Install in ``live/`` the release that was live before the current one."""
    _require_live_allowed(confirm, paper_mode)
    ledger = Ledger.load(state)
    release = ledger.previous_live()
    _go_live(state, ledger, release, "rollback", no_deps)
    return release


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.release", description=__doc__)
    parser.add_argument("--state", type=Path, default=REPO / ".deploy", help="(.deploy/)")
    parser.add_argument(
        "--no-deps",
        action="store_true",
        help="install the wheel alone: the environments already hold its dependencies",
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("deploy-paper", help="build once, install in paper/, run the canary")
    promoting = verbs.add_parser("promote", help="install a canaried release in live/")
    promoting.add_argument("--release", help="a release id (default: the newest)")
    verbs.add_parser("rollback", help="install the previously promoted release in live/")
    verbs.add_parser("status", help="print the ledger")
    args = parser.parse_args(argv)
    confirm, paper_mode = os.environ.get("PROMOTE_CONFIRM"), os.environ.get("PAPER_MODE")
    try:
        if args.verb == "deploy-paper":
            release = deploy_paper(args.state, no_deps=args.no_deps)
            assert release.canary is not None
            print(f"{release.id} built, sha256 {release.sha256}; canary {release.canary.run_id} "
                  f"passed ({release.canary.detail})")  # fmt: skip
        elif args.verb == "promote":
            release = promote(args.state, args.release, confirm=confirm, paper_mode=paper_mode,
                              no_deps=args.no_deps)  # fmt: skip
            print(f"{release.id} (sha256 {release.sha256}) is live")
        elif args.verb == "rollback":
            release = rollback(args.state, confirm=confirm, paper_mode=paper_mode,
                               no_deps=args.no_deps)  # fmt: skip
            print(f"rolled back: {release.id} (sha256 {release.sha256}) is live")
        else:
            print(json.dumps(asdict(Ledger.load(args.state)), indent=2))
    except ReleaseError as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
