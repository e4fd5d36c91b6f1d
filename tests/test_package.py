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


def test_every_file_of_the_product_that_is_not_python_ships_in_the_wheel() -> None:
    """A data file the product reads (candles, templates, compiled contracts, migration
    scripts) must match a ``package-data`` glob, or ``make package`` leaves it out."""
    import tomllib

    package = ROOT / "backend" / "tradebot"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["tradebot"]
    shipped = {path for pattern in globs for path in package.glob(pattern)}
    data = {
        path
        for path in package.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    }
    missing = sorted(str(path.relative_to(package)) for path in data - shipped)
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
