"""verbose: the epoch table (k/N, time left, no colour off a terminal) and the batch bar."""

import importlib.util
import io
import re
import sys

import pytest
from skorch.callbacks import ProgressBar

from sklearn_dnn import DeepClassifier
from sklearn_dnn._engine.callbacks import EpochLog, _duration

from ._data import classification

FAST = dict(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
ANSI = re.compile(r"\x1b\[")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def columns(out):
    lines = out.strip().splitlines()
    header = lines[0].split()
    return [dict(zip(header, line.split(), strict=True)) for line in lines[2:]]


def test_verbose_one_shows_epoch_k_of_n_and_the_time_left(capsys):
    X, y = classification()
    DeepClassifier(verbose=1, early_stopping=True, **FAST).fit(X, y)
    rows = columns(capsys.readouterr().out)
    assert [row["epoch"] for row in rows] == ["1/3", "2/3", "3/3"]
    assert rows[-1]["left"] == "0.0s"
    assert all(re.fullmatch(r"\d+\.\ds", row["left"]) for row in rows)


def test_no_colour_codes_when_stdout_is_not_a_terminal(capsys):
    X, y = classification()
    # valid_loss improves every epoch: skorch would colour it as the best
    DeepClassifier(verbose=1, early_stopping=True, **FAST).fit(X, y)
    out = capsys.readouterr().out
    assert "valid_loss" in out and not ANSI.search(out)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_colour_codes_on_a_terminal(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    X, y = classification()
    DeepClassifier(verbose=1, early_stopping=True, **FAST).fit(X, y)
    assert ANSI.search(terminal.getvalue())


def test_warm_start_counts_this_fits_epochs(capsys):
    X, y = classification()
    clf = DeepClassifier(warm_start=True, **FAST).fit(X, y)
    clf.set_params(verbose=1, max_epochs=2).fit(X, y)
    assert [row["epoch"] for row in columns(capsys.readouterr().out)] == ["1/2", "2/2"]


def test_verbose_two_adds_a_progress_bar_per_batch(capsys):
    pytest.importorskip("tqdm")
    X, y = classification(n_samples=100)
    clf = DeepClassifier(verbose=2, batch_size=20, early_stopping=False, **FAST).fit(X, y)
    bars = [cb for _, cb in clf.net_.callbacks_ if isinstance(cb, ProgressBar)]
    assert len(bars) == 1 and bars[0].batches_per_epoch == 5
    assert "0/5" in capsys.readouterr().err  # a bar of 5 batches, on stderr
    quiet = DeepClassifier(verbose=1, batch_size=20, **FAST).fit(X, y)
    assert not any(isinstance(cb, ProgressBar) for _, cb in quiet.net_.callbacks_)


def test_the_epoch_log_replaces_skorchs():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(**FAST).fit(X, y)
    logs = [type(cb) for _, cb in clf.net_.callbacks_ if type(cb).__name__.endswith("Log")]
    assert logs == [EpochLog]


@pytest.mark.parametrize(
    "seconds, text",
    [(0.04, "0.0s"), (4.26, "4.3s"), (42.4, "42s"), (187, "3m07s"), (3900, "1h05m")],
)
def test_durations_read_well(seconds, text):
    assert _duration(seconds) == text


@pytest.mark.parametrize("verbose, stream", [(1, "stdout"), (2, "stdout"), (2, "stderr")])
def test_a_missing_output_stream_prints_nothing_and_fits(monkeypatch, verbose, stream):
    # pythonw and some services run with sys.stdout (or sys.stderr) None: print
    # then does nothing, and neither may the log or the bar raise
    monkeypatch.setattr(sys, stream, None)
    X, y = classification(n_samples=60)
    clf = DeepClassifier(verbose=verbose, batch_size=20, **FAST).fit(X, y)
    assert clf.n_iter_ == 3
    bars = [cb for _, cb in clf.net_.callbacks_ if isinstance(cb, ProgressBar)]
    has_tqdm = importlib.util.find_spec("tqdm") is not None
    assert len(bars) == (verbose == 2 and stream == "stdout" and has_tqdm)  # no stderr, no bar
