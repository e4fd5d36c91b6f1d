"""``tools.release``: ``make deploy-paper`` builds the wheel once and records it with its hash
and its paper canary; ``make deploy-live`` installs exactly that wheel, and only once its
canary passed; ``make rollback`` returns to the release promoted before.

Real builds of a clone of the repository's HEAD (a work tree others edit would not build the
same bytes twice), real virtual environments and a real canary (``tradebot paper`` from the
installed wheel). The environments get their dependencies from this test's own environment
(a ``.pth``), so only the wheel is installed (``no_deps``): a release does not wait on
downloading them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from tools import release
from tools.release import Ledger, ReleaseError

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CONFIRMED = {"confirm": release.CONFIRM, "paper_mode": "false", "no_deps": True}


def environment(path: Path) -> Path:
    """A virtual environment that finds the dependencies in this test's environment."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    (site,) = path.glob("lib/python*/site-packages")
    (site / "tradebot_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return path


def installed_from(env: Path) -> str:
    """The wheel file ``env``'s tradebot was installed from (pip's direct_url.json)."""
    code = (
        "import importlib.metadata as m, json; "
        "print(json.loads(m.distribution('tradebot').read_text('direct_url.json'))['url'])"
    )
    done = subprocess.run([str(env / "bin" / "python"), "-c", code], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return done.stdout.strip().removeprefix("file://")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clone = tmp_path_factory.mktemp("source") / "tradebot"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    return clone


@pytest.fixture(scope="module")
def deployed(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state folder after one ``deploy-paper``."""
    state = tmp_path_factory.mktemp("deploy")
    environment(state / "paper")
    release.deploy_paper(state, source, no_deps=True)
    return state


def test_deploy_paper_builds_once_and_records_the_hash_and_the_passed_canary(
    deployed: Path, source: Path
) -> None:
    (built,) = Ledger.load(deployed).releases
    wheel = deployed / built.wheel
    assert built.sha256 == release._sha256(wheel)
    assert built.id == f"{built.version}-{built.sha256[:12]}"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip
    assert built.commit == head
    assert built.canary is not None
    assert (built.canary.run_id, built.canary.passed) == (f"canary-{built.id}", True)
    result = json.loads((deployed / "canaries" / built.id / "result.json").read_text())
    assert result["fills"] > 0
    assert installed_from(deployed / "paper") == str(wheel)
    # The same commit again: the same bytes, recorded once, nothing rebuilt into the ledger.
    again = release.deploy_paper(deployed, source, no_deps=True)
    assert again.id == built.id
    assert len(Ledger.load(deployed).releases) == 1


def test_live_takes_only_a_canaried_artifact_as_built_and_rolls_back_to_the_previous(
    deployed: Path, source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    shutil.copytree(deployed, state, ignore=shutil.ignore_patterns("paper"))
    environment(state / "live")
    (first,) = Ledger.load(state).releases

    for refused in ({"confirm": None}, {"confirm": "yes"}, {"paper_mode": "true"}):
        with pytest.raises(ReleaseError, match="refused"):
            release.promote(state, None, **{**CONFIRMED, **refused})  # type: ignore[arg-type]
    # A newer build that never ran its canary (another commit time: other bytes).
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    second = release.build(state, source)
    assert second.id != first.id
    with pytest.raises(ReleaseError, match=r"canary of .* never ran"):
        release.promote(state, None, **CONFIRMED)  # type: ignore[arg-type]

    assert release.promote(state, first.id, **CONFIRMED).id == first.id  # type: ignore[arg-type]
    assert installed_from(state / "live") == str(state / first.wheel)
    with pytest.raises(ReleaseError, match="no earlier promoted release"):
        release.rollback(state, **CONFIRMED)  # type: ignore[arg-type]

    paper = environment(tmp_path / "paper")  # the second's own canary, as deploy-paper runs it
    release.install(state, second, paper, no_deps=True)
    assert release.canary(state, second, paper).passed
    assert release.promote(state, None, **CONFIRMED).id == second.id  # type: ignore[arg-type]
    assert installed_from(state / "live") == str(state / second.wheel)

    assert release.rollback(state, **CONFIRMED).id == first.id  # type: ignore[arg-type]
    assert installed_from(state / "live") == str(state / first.wheel)
    ledger = Ledger.load(state)
    assert [(p.release, p.kind) for p in ledger.promotions] == [
        (first.id, "promote"), (second.id, "promote"), (first.id, "rollback"),
    ]  # fmt: skip
    assert ledger.live() == ledger.find(first.id)


def test_an_altered_artifact_is_never_installed(deployed: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    shutil.copytree(deployed, state, ignore=shutil.ignore_patterns("paper"))
    (built,) = Ledger.load(state).releases
    with (state / built.wheel).open("ab") as wheel:
        wheel.write(b"\0")
    with pytest.raises(ReleaseError, match="missing or altered"):
        release.promote(state, built.id, **CONFIRMED)  # type: ignore[arg-type]
    assert Ledger.load(state).promotions == []
    assert not (state / "live").exists()
