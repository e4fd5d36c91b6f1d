"""``tradebot sweep`` end to end: outputs, ranking, skips and one-line errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from tradebot.candles.io import bundled, load_candles
from tradebot.cli.main import main
from tradebot.engine.plan import build_plan
from tradebot.engine.types import GridConfig, Spacing
from tradebot.research.backtest import run_backtest

GRID = [
    "--lower",
    "94000:96000:1000",
    "--upper",
    "100000,102000",
    "--lines",
    "6:12:6",
    "--spacing",
    "arithmetic,geometric",
    "--investment",
    "1000",
    "--maker-fee",
    "0.001",
    "--taker-fee",
    "0.001",
    "--exact",
]


def test_sweep_writes_ranked_csv_json_and_a_heatmap(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "sweep",
            *GRID,
            "--metric",
            "sharpe",
            "--top",
            "3",
            "--csv",
            str(out / "s.csv"),
            "--json",
            str(out / "s.json"),
            "--html",
            str(out / "s.html"),
            "--heatmap-x",
            "lines",
            "--heatmap-y",
            "lower",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "best 3 of 24 grids by sharpe" in printed
    assert "24 combinations: 24 run, 0 skipped" in printed
    data = json.loads((out / "s.json").read_text())
    assert (data["metric"], data["combinations"], data["valid"]) == ("sharpe", 24, 24)
    sharpes = [row["sharpe"] for row in data["results"]]
    assert sharpes == sorted(sharpes, reverse=True)
    with (out / "s.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 24
    assert rows[0]["rank"] == "1"
    assert float(rows[0]["sharpe"]) == pytest.approx(sharpes[0], rel=1e-11)
    page = (out / "s.html").read_text()
    assert "Plotly.newPlot" in page
    assert "Best sharpe for each lines and lower" in page
    # The winner is what a plain backtest of that grid gives.
    best = data["results"][0]
    plan = build_plan(
        GridConfig(
            best["lower"],
            best["upper"],
            best["lines"],
            1000,
            Spacing(best["spacing"]),
            0.001,
            0.001,
        )
    )
    single = run_backtest(plan, load_candles(bundled()))
    assert best["sharpe"] == pytest.approx(single.sharpe, rel=1e-9)
    assert best["total_pnl"] == pytest.approx(single.total_pnl, rel=1e-9)


def test_sweep_json_equals_backtest_json_through_the_pairs_rounding(tmp_path):
    # Without --exact both commands round to BTC/USDT's tick and lot: the figures still agree.
    args = [
        "--lower",
        "95000",
        "--upper",
        "101000",
        "--lines",
        "9",
        "--spacing",
        "geometric",
        "--investment",
        "800",
    ]
    assert main(["sweep", *args, "--json", str(tmp_path / "s.json"), "--quiet"]) == 0
    assert main(["backtest", *args, "--json", str(tmp_path / "b.json"), "--quiet"]) == 0
    swept = json.loads((tmp_path / "s.json").read_text())["results"][0]
    single = json.loads((tmp_path / "b.json").read_text())
    for name in (
        "total_pnl",
        "grid_profit",
        "round_trips",
        "fees_paid",
        "max_drawdown",
        "min_quote",
        "sharpe",
    ):
        assert swept[name] == pytest.approx(single[name], rel=1e-9), name


def test_skipped_combinations_are_counted_in_the_json(tmp_path, capsys):
    code = main(
        [
            "sweep",
            "--lower",
            "99000,101000",
            "--upper",
            "100000",
            "--lines",
            "3,200",
            "--investment",
            "1000",
            "--exact",
            "--json",
            str(tmp_path / "s.json"),
        ]
    )
    assert code == 0
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["valid"] == 1
    assert data["skipped"]["lower_not_below_upper"] == 2
    assert data["skipped"]["refused"] == 1
    assert "1 run, 3 skipped" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lower", "90000:95000"], "--lower: bad range '90000:95000' (use START:STOP:STEP)"),
        (["--lines", "10:5:1"], "--lines: range '10:5:1' runs backwards (STOP below START)"),
        (["--upper", "a,b"], "--upper: 'a' is not a number"),
        (["--spacing", "log"], "--spacing: unknown value 'log'"),
        (
            ["--lower", "100000", "--upper", "90000"],
            "none of the 1 combinations is a valid grid (lower >= upper: 1, refused by the plan",
        ),
        (["--top", "0"], "--top must be at least 1 (got 0)"),
        (["--maker-fee", "-0.1"], "--maker-fee: "),
        (
            ["--html", "x.html", "--heatmap-x", "lines", "--heatmap-y", "lines"],
            "--heatmap-x and --heatmap-y must differ",
        ),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path, capsys, args, message):
    code = main(["sweep", *args, "--json", str(tmp_path / "s.json"), "--quiet"])
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith(f"tradebot: error: {message}")
    assert err.count("\n") == 1
    assert not (tmp_path / "s.json").exists()


def test_the_installed_command_reports_a_bad_range_on_stderr():
    done = subprocess.run(
        [sys.executable, "-m", "tradebot.cli.main", "sweep", "--lower", "1:2:0", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == "tradebot: error: --lower: range step must be > 0 in '1:2:0'\n"
    assert done.stdout == ""


def test_help_documents_the_range_syntax(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    assert "START:STOP:STEP" in " ".join(capsys.readouterr().out.split())
