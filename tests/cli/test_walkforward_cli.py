"""``tradebot walkforward`` end to end on the shipped example config and the demo week."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tradebot.candles.io import bundled
from tradebot.cli.main import main

EXAMPLE = Path(__file__).parents[2] / "configs" / "walkforward.json"


def _one_stage(path: Path, settings: dict[str, Any], **top: Any) -> Path:
    stage = {"in_sample": {"days": 1}, "out_of_sample": {"days": 1}, "settings": settings}
    path.write_text(json.dumps({"stages": [stage], **top}), encoding="utf-8")
    return path


def test_the_example_config_reports_every_stage_in_and_out_of_sample(tmp_path, capsys):
    out = tmp_path / "wf.json"
    assert main(["walkforward", "--config", str(EXAMPLE), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "out-of-sample total P&L" in printed
    data = json.loads(out.read_text())
    assert len(data["stages"]) == 4
    for stage in data["stages"]:
        assert stage["in_sample"]["end_ms"] <= stage["out_of_sample"]["start_ms"]
        assert stage["out_of_sample"]["candles"] > 0
        assert set(stage["in_sample"]["results"]) >= {"total_pnl", "round_trips", "max_drawdown"}
    assert data["stages"][0]["sweep"]["metric"] == "total_pnl"
    assert data["stages"][2]["sweep"] is None
    assert data["out_of_sample_total_pnl"] == pytest.approx(
        sum(s["out_of_sample"]["results"]["total_pnl"] for s in data["stages"])
    )


def test_the_config_path_defaults_to_the_walkforward_config_setting(tmp_path, monkeypatch, capsys):
    config = _one_stage(tmp_path / "mine.json", {"GRID_INVESTMENT": 1000})
    monkeypatch.setenv("WALKFORWARD_CONFIG", str(config))
    assert main(["walkforward", "--quiet", "--json", str(tmp_path / "out.json")]) == 0
    assert json.loads((tmp_path / "out.json").read_text())["config"] == str(config)
    assert capsys.readouterr().out == ""


def test_candles_flag_overrides_the_configs_file(tmp_path, capsys):
    config = _one_stage(tmp_path / "wf.json", {}, candles="missing.csv.gz")
    assert main(["walkforward", "--config", str(config), "--quiet"]) == 2
    assert "missing.csv.gz: no such candle file" in capsys.readouterr().err
    args = ["walkforward", "--config", str(config), "--candles", str(bundled()), "--quiet"]
    assert main(args) == 0


def test_a_bad_config_is_one_line_and_writes_nothing(tmp_path, capsys):
    config = _one_stage(tmp_path / "wf.json", {"TP": 500})
    out = tmp_path / "out.json"
    assert main(["walkforward", "--config", str(config), "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tradebot: error: {config}: stages[0].settings.TP: ")
    assert err.count("\n") == 1
    assert not out.exists()
