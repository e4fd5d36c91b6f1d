"""Bad input on ``tradebot backtest`` and ``tradebot paper``: one line, non-zero exit, and
nothing written: no report, no half-stored run."""

from __future__ import annotations

import gzip
import sqlite3

import pytest

from tradebot.cli.main import main

BAD_GRIDS = [
    (["--lower", "100000", "--upper", "95000"], "lower (100000.0) must be below upper"),
    (["--lines", "1"], "--lines: Input should be greater than or equal to 2"),
    (["--maker-fee", "-0.001"], "--maker-fee: Input should be greater than or equal to 0"),
    (["--taker-fee", "-1"], "--taker-fee: Input should be greater than or equal to 0"),
    (["--investment", "20", "--lines", "30"], "too small for 30 lines"),
    (["--pair", "DOGE/EUR"], "unknown pair 'DOGE/EUR'"),
    (
        ["--lower", "99000", "--upper", "99100", "--lines", "30", "--investment", "900"],
        "too tight for the fees",
    ),
    (["--lines", "30"], "GRID_STEPS: 30 lines x 50 per trade needs 1450, over BANKROLL_USD 1000"),
]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    for name in ("GRID_LOWER", "GRID_UPPER", "GRID_STEPS", "GRID_INVESTMENT", "RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _one_error_line(capsys, expected: str) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("tradebot: error: ")
    assert expected in err[0]


def _outputs(workdir):
    return [
        "--json",
        str(workdir / "r.json"),
        "--html",
        str(workdir / "r.html"),
        "--fills-csv",
        str(workdir / "f.csv"),
    ]


def _written(workdir):
    return sorted(p.name for p in workdir.iterdir() if p.name != "var")


@pytest.mark.parametrize(("flags", "message"), BAD_GRIDS)
@pytest.mark.parametrize("command", ["backtest", "paper"])
def test_a_bad_grid_is_one_line_and_writes_nothing(workdir, capsys, command, flags, message):
    assert main([command, *flags, *_outputs(workdir)]) == 2
    _one_error_line(capsys, message)
    assert _written(workdir) == []
    assert not (workdir / "var").exists()  # no database, so no half-stored run


@pytest.mark.parametrize("command", ["backtest", "paper"])
def test_a_missing_candle_file_is_one_line(workdir, capsys, command):
    assert main([command, "--candles", str(workdir / "nope.csv"), *_outputs(workdir)]) == 2
    _one_error_line(capsys, "no such candle file")
    assert _written(workdir) == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("corrupt.csv.gz", b"\x1f\x8b\x08garbage", "not a readable candle file"),
        ("text.csv", b"hello,world\n1,2\n", "no timestamp column"),
        ("cols.csv", b"timestamp,open,high\n1,2,3\n", "missing column 'low'"),
        ("bad.json", b"{not json", "not a readable candle file"),
        ("x.xlsx", b"", "unknown candle format"),
        ("empty.csv", b"timestamp,open,high,low,close,volume\n", "no candles"),
        (
            "unsorted.csv",
            b"timestamp,open,high,low,close\n120000,1,2,0.5,1\n60000,1,2,0.5,1\n",
            "timestamps not ascending",
        ),
        (
            "dup.csv",
            b"timestamp,open,high,low,close\n60000,1,2,0.5,1\n60000,1,2,0.5,1\n",
            "duplicate timestamps",
        ),
        (
            "ohlc.csv",
            b"timestamp,open,high,low,close\n60000,1,2,0.5,1\n120000,1,0.9,0.5,1\n",
            "impossible OHLC at row 2",
        ),
        # Prices that are not prices: NaN, infinite, zero or negative (issue 20, item 13).
        (
            "nan.csv",
            b"timestamp,open,high,low,close\n60000,1,2,0.5,1\n120000,nan,2,0.5,1\n",
            "'open'",
        ),
        (
            "inf.csv",
            b"timestamp,open,high,low,close\n60000,1,2,0.5,1\n120000,1,inf,0.5,1\n",
            "row 2",
        ),
        ("zero.csv", b"timestamp,open,high,low,close\n60000,1,2,0.5,1\n120000,0,0,0,0\n", "row 2"),
        ("neg.csv", b"timestamp,open,high,low,close\n60000,1,2,0.5,1\n120000,-1,2,-2,1\n", "row 2"),
        ("nan.json", b"[[60000,1,2,0.5,1],[120000,1,2,0.5,NaN]]", "row 2"),
        ("neg.json", b"[[60000,1,2,0.5,1],[120000,-1,-1,-1,-1]]", "row 2"),
    ],
)
@pytest.mark.parametrize("command", ["backtest", "paper"])
def test_a_corrupt_candle_file_is_one_line(workdir, capsys, command, name, content, message):
    path = workdir / name
    path.write_bytes(content)
    assert main([command, "--candles", str(path), "--exact", *_outputs(workdir)]) == 2
    _one_error_line(capsys, message)
    assert _written(workdir) == [name]


def test_gaps_are_listed_and_never_filled(workdir, capsys):
    rows = ["timestamp,open,high,low,close,volume"]
    for minute in [0, 1, 2, 5, 6, 9]:
        rows.append(f"{1_733_011_200_000 + minute * 60_000},100,101,99,100,1")
    path = workdir / "gappy.csv.gz"
    path.write_bytes(gzip.compress("\n".join(rows).encode()))
    code = main(
        [
            "backtest",
            "--candles",
            str(path),
            "--exact",
            "--lower",
            "90",
            "--upper",
            "110",
            "--lines",
            "5",
            "--investment",
            "100",
            "--json",
            str(workdir / "r.json"),
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "2 gaps (4 candles missing, not filled)" in err
    assert "2 after 1733011320000" in err


def test_paper_refuses_an_unknown_client_and_stores_no_run(workdir, capsys, monkeypatch):
    monkeypatch.setenv("CLIENT_ID", "nobody")
    assert main(["paper", "--days", "1", "--quiet"]) == 2
    _one_error_line(capsys, "CLIENT_ID: unknown client 'nobody'")
    rows = (
        sqlite3.connect(workdir / "var" / "tradebot.db")
        .execute("select count(*) from bot_runs")
        .fetchone()
    )
    assert rows == (0,)


def test_paper_refuses_to_rerun_a_finished_run(workdir, capsys):
    assert main(["paper", "--days", "0.2", "--quiet", "--run-id", "once"]) == 0
    capsys.readouterr()
    assert main(["paper", "--days", "0.2", "--quiet", "--run-id", "once"]) == 2
    _one_error_line(capsys, "run 'once' already finished")


UNWRITABLE = [
    (lambda w: (w / "out").write_text("a file"), "out/r.html", "out is a file, not a folder"),
    (lambda w: (w / "out").write_text("a file"), "out/deeper/r.html", "is a file, not a folder"),
    (lambda w: (w / "r.html").mkdir(), "r.html", "it is a folder"),
]


@pytest.mark.parametrize(("prepare", "target", "message"), UNWRITABLE)
@pytest.mark.parametrize("command", ["backtest", "paper"])
def test_an_unwritable_output_is_one_line_before_any_work(
    workdir, capsys, command, prepare, target, message
):
    # Naive implementation caught: the whole week replayed (and its run stored), then a raw
    # FileExistsError traceback when the report was written.
    prepare(workdir)
    before = _written(workdir)
    assert main([command, "--quiet", "--json", "r.json", "--html", target]) == 2
    _one_error_line(capsys, message)
    assert _written(workdir) == before
    assert not (workdir / "var" / "tradebot.db").exists()  # no run was stored


def test_one_path_for_two_outputs_is_refused(workdir, capsys):
    assert main(["backtest", "--quiet", "--json", "r.out", "--fills-csv", "./r.out"]) == 2
    _one_error_line(capsys, "r.out is given for two outputs")
    assert _written(workdir) == []


def test_sweep_plan_and_walkforward_check_their_outputs_first(workdir, capsys):
    (workdir / "out").write_text("a file")
    for command in (
        ["sweep", "--lines", "10,20", "--quiet", "--csv", "out/s.csv"],
        ["plan", "--json", "out/p.json"],
        ["walkforward", "--quiet", "--json", "out/w.json"],
    ):
        assert main(command) == 2, command
        _one_error_line(capsys, "out is a file, not a folder")
