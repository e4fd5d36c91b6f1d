"""The wheel holds the product only: test harnesses (the soaks) are tools of the repo."""

from __future__ import annotations

from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_packages_hold_no_soak_or_tool_code() -> None:
    packages = find_packages(where=str(ROOT / "backend"))
    assert "tradebot" in packages
    assert all(name == "tradebot" or name.startswith("tradebot.") for name in packages)
    assert not [name for name in packages if "soak" in name]
    assert (ROOT / "tools" / "soak" / "__main__.py").is_file()
