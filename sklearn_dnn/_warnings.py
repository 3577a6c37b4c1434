"""Warnings attributed to the user's line, not to sklearn-dnn's or scikit-learn's."""

import inspect
import os
import warnings

import joblib
import sklearn

# Frames in these folders are never blamed for a warning: ours, and the
# scikit-learn and joblib machinery (Pipeline, search, parallel workers)
# between the user's line and our code.
_INTERNAL_DIRS = tuple(
    os.path.dirname(module.__file__) + os.sep for module in (sklearn, joblib)
) + (os.path.dirname(__file__) + os.sep,)


def warn(message, category):
    """``warnings.warn`` attributed to the user's line.

    The warning points at the first frame outside sklearn-dnn,
    scikit-learn and joblib: the user's ``fit`` call, also through a
    Pipeline or a search.
    """
    frame = inspect.currentframe().f_back
    level = 2  # the caller of this function
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL_DIRS):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
