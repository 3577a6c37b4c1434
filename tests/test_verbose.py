"""verbose: the epoch table (k/N, time left, no colour off a terminal) and the batch bar."""

import importlib.util
import io
import re
import sys

import pytest
from skorch.callbacks import ProgressBar

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._engine.callbacks import EpochLog, _duration

from ._data import classification, regression

FAST = dict(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
ANSI = re.compile(r"\x1b\[")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def table(out):
    """The header, the epoch rows and the closing line of a fit's log."""
    lines = out.rstrip("\n").splitlines()
    assert set(lines[1]) == {"-", " "}
    return lines[0], lines[2:-1], lines[-1]


def columns(out):
    """The epoch rows as dicts of the header's columns (a blank cell is "").

    The cells are cut where the header's names end (they are right-aligned
    under them), the last, ``note``, from where its name begins: a row
    whose cells are shifted does not read back.
    """
    header, rows, _ = table(out)
    spans = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", header)]
    assert spans[-1][0] == "note"
    cells = []
    for row in rows:
        row = row.ljust(len(header))  # a row without notes ends at its last cell
        cut, start = {}, 0
        for name, _, end in spans[:-1]:
            cut[name] = row[start:end].strip()
            # nothing runs into the previous column
            assert start == 0 or row[start:end].startswith(" ")
            start = end
        cut["note"] = row[spans[-1][1] :].strip()
        cells.append(cut)
    return cells


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


def test_every_epoch_is_printed_the_stopping_one_too_and_a_closing_line(capsys):
    X, y = classification()
    clf = DeepClassifier(
        hidden_layer_sizes=(8,),
        learning_rate=0.05,
        schedule=None,
        patience=3,
        max_epochs=200,
        random_state=0,
    )
    clf.set_params(verbose=1).fit(X, y)
    out = capsys.readouterr().out
    rows = columns(out)
    assert clf.n_iter_ < 200  # it stopped early
    assert [row["epoch"] for row in rows] == [f"{k}/200" for k in range(1, clf.n_iter_ + 1)]
    assert rows[-1]["left"] == "0.0s"  # nothing is left once it stopped
    best = next(i for i, epoch in enumerate(clf.history_, start=1) if epoch.get("best"))
    closing = table(out)[2]
    assert closing.startswith(f"Stopped after {clf.n_iter_} epochs: patience exhausted: ")
    assert "valid_loss did not fall by more than tol=0.0001 for 3 epochs" in closing
    assert f"restored epoch {best} (best valid_loss " in closing
    assert re.search(r"; total \d+(\.\d)?s\.$", closing)


def test_best_is_marked_in_text(capsys):
    X, y = classification()
    clf = DeepClassifier(hidden_layer_sizes=(8,), learning_rate=0.05, patience=3, random_state=0)
    clf.set_params(max_epochs=60, verbose=1).fit(X, y)
    rows = columns(capsys.readouterr().out)
    assert {row["best"] for row in rows} == {"", "*"}
    marked = [i for i, row in enumerate(rows) if row["best"] == "*"]
    losses = [float(rows[i]["valid_loss"]) for i in marked]
    assert marked[0] == 0 and losses == sorted(losses, reverse=True)  # each a new lowest
    unmarked = [float(row["valid_loss"]) for i, row in enumerate(rows) if i not in marked]
    assert all(loss >= min(losses) for loss in unmarked)
    restored = next(i for i, epoch in enumerate(clf.history_) if epoch.get("best"))
    assert marked[-1] == restored


def test_max_epochs_reached_is_said(capsys):
    X, y = classification()
    DeepClassifier(verbose=1, **FAST).fit(X, y)
    closing = table(capsys.readouterr().out)[2]
    assert "Stopped after 3 epochs: max_epochs=3 reached; restored epoch 3" in closing


def test_converging_on_the_training_loss_is_said(capsys):
    X, y = regression()
    reg = DeepRegressor(
        hidden_layer_sizes=(8,),
        early_stopping=False,
        schedule=None,
        tol=0.5,
        patience=2,
        max_epochs=50,
    )
    reg.set_params(verbose=1, random_state=0).fit(X, y)
    closing = table(capsys.readouterr().out)[2]
    assert reg.n_iter_ < 50
    assert "converged on the training loss (patience exhausted: the training loss" in closing
    assert f"kept the weights of epoch {reg.n_iter_}, the last" in closing


def test_a_callback_that_stops_the_fit_is_named(capsys):
    from skorch.callbacks import EarlyStopping

    X, y = classification()
    # a relative threshold of 0.99: no epoch improves enough, it stops after patience=2
    stop = EarlyStopping(monitor="train_loss", patience=2, threshold=0.99, load_best=False)
    clf = DeepClassifier(hidden_layer_sizes=(8,), max_epochs=50, callbacks=[("stop", stop)])
    clf.set_params(verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "Stopping since train_loss has not improved" in out  # EarlyStopping's own line
    out = "\n".join(line for line in out.splitlines() if not line.startswith("Stopping since"))
    assert len(columns(out)) == clf.n_iter_ < 50
    assert f"Stopped after {clf.n_iter_} epochs: a callback stopped it" in table(out)[2]


@pytest.mark.parametrize("schedule", ["step", "plateau", "onecycle"])
def test_one_lr_column_whatever_the_schedule(capsys, schedule):
    X, y = regression()
    DeepRegressor(verbose=1, schedule=schedule, **FAST).fit(X, y)
    header = table(capsys.readouterr().out)[0]
    assert header.split().count("lr") == 1


def test_the_unfreezing_marker_keeps_the_columns_aligned(capsys):
    X, y = classification()
    source = DeepClassifier(**FAST).fit(X, y)
    model = DeepClassifier.from_pretrained(source, unfreeze_after=2, max_epochs=4, random_state=0)
    model.set_params(verbose=1).fit(X, y)
    rows = columns(capsys.readouterr().out)  # cuts each row where the header's columns end
    assert [row["note"] for row in rows] == ["", "unfrozen", "", ""]
    assert all(re.fullmatch(r"\d+\.\d{4}", row["train_loss"]) for row in rows)


def test_verbose_zero_prints_nothing(capsys):
    X, y = classification()
    DeepClassifier(**FAST).fit(X, y)
    assert capsys.readouterr().out == ""
