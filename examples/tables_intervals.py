"""The README's second block: a raw DataFrame, 90% intervals, and a saved model.

The code below the docstring is the README's block under "Tables, intervals
and files", line for line (tests/test_readme.py checks that they agree). It
runs in seconds, so it has no quick mode: SKLEARN_DNN_QUICK=1 runs it in full.

Run: python examples/tables_intervals.py
"""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_dnn import DeepRegressor

rng = np.random.default_rng(0)
X = pd.DataFrame(
    {
        "size": rng.lognormal(4, 0.5, 600),  # numeric, with missing values below
        "city": pd.Categorical(rng.choice(["Lyon", "Oslo", "Pune"], 600)),
        "garden": rng.random(600) > 0.5,
    }
)
X.loc[::10, "size"] = np.nan
y = np.nan_to_num(X["size"], nan=55) * 2 + (X["city"] == "Oslo") * 40 + rng.normal(0, 5, 600)

reg = DeepRegressor(loss="beta_nll", calibration_fraction=0.2, random_state=0).fit(X, y)
new = pd.DataFrame({"size": [50.0, np.nan], "city": ["Oslo", "Rome"], "garden": [True, False]})
print("predictions:", reg.predict(new).round(1))  # "Rome" was never seen: its own slot
print("90% intervals:", reg.predict_interval(new, coverage=0.9).round(1).tolist())

path = Path(tempfile.mkdtemp()) / "model.skdnn"
reg.save(path)  # everything a prediction needs, with a checked header
print(
    "reloaded, same predictions:", (DeepRegressor.load(path).predict(new) == reg.predict(new)).all()
)
