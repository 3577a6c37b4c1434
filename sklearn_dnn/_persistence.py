"""Saving a fitted estimator to one file, and loading it back: ``save`` and ``load``.

A file holds the whole fitted estimator, so that nothing a prediction
needs can be left behind: its hyperparameters and every fitted attribute
(the network's weights and architecture, the task: a regressor's target
scaling, a classifier's classes; the features it was fitted on and any
input handling), whatever attributes a later version adds. (A network's
``net_.save_params`` writes the weights alone; loaded into another
estimator they are read with that estimator's target scaling, classes and
input handling.)

The file is a header and a payload::

    MAGIC (16 bytes) | header length (8 bytes, little-endian) | header (JSON) | payload

The header says what the file holds before anything in it is unpickled:
the format and its version, the library version that wrote it, the
estimator's class, ``n_features_in_`` and ``feature_names_in_``, and the
payload's length and SHA-256 digest. :func:`load` refuses a file that is
not one of ours, a newer format, a truncated or corrupted payload and an
estimator of another class, each with a :class:`~sklearn_dnn.exceptions.ModelFileError`
that names the problem, before it unpickles anything.

The payload is the estimator written by ``torch.save`` (``pickle``, with
torch's handling of tensors). Loading it runs
``torch.load(weights_only=False)``: like every pickle, a payload can run
code when it is loaded. The checks above find accidents (a wrong or
damaged file), not an attack: someone who can write a file can write a
matching header. Load only files you trust, as scikit-learn says of its
pickles. (``weights_only=True`` cannot hold an estimator: its
hyperparameters may be callables, torch modules or callbacks, and its
fitted state is more than tensors.)
"""

import hashlib
import io
import json
import os
import struct
import warnings

import torch
from sklearn.utils.validation import check_is_fitted

from .exceptions import ModelFileError

MAGIC = b"\x89sklearn-dnn\r\n\x1a\n"  # 16 bytes; the \r\n and \x1a show a text-mode copy
FORMAT = "sklearn-dnn model"
FORMAT_VERSION = 1
_LENGTH = struct.Struct("<Q")
_ZIP = b"PK\x03\x04"  # torch.save's files (net_.save_params) are zip archives


def _library_version():
    from . import __version__

    return __version__


def _class_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _public_name(name):
    """``sklearn_dnn._regressor.DeepRegressor`` -> ``DeepRegressor``."""
    return name.rpartition(".")[2]


def save_estimator(estimator, file):
    """Write the fitted ``estimator`` to ``file`` (a path or a binary file object)."""
    check_is_fitted(estimator, "net_")
    buffer = io.BytesIO()
    torch.save(estimator, buffer)
    payload = buffer.getvalue()
    names = getattr(estimator, "feature_names_in_", None)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": _library_version(),
        "torch_version": torch.__version__.split("+")[0],
        "estimator": _class_name(type(estimator)),
        "n_features_in_": int(estimator.n_features_in_),
        "feature_names_in_": None if names is None else [str(name) for name in names],
        "payload_bytes": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }
    head = json.dumps(header, sort_keys=True).encode("utf-8")
    data = MAGIC + _LENGTH.pack(len(head)) + head + payload
    if isinstance(file, (str, os.PathLike)):
        with open(file, "wb") as f:
            f.write(data)
    else:
        file.write(data)


def read_header(file):
    """The header of a model file, and its payload; a ModelFileError when either is wrong."""
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as f:
            data = f.read()
        where = f"{os.fspath(file)!r}"
    else:
        data = file.read()
        where = "The file"
    if not data:
        raise ModelFileError(f"{where} is empty.")
    if len(data) < len(MAGIC) and MAGIC.startswith(data):
        raise ModelFileError(f"{where} is truncated: it ends inside its first bytes.")
    if not data.startswith(MAGIC):
        hint = ""
        if data.startswith(_ZIP):
            hint = (
                " It looks like a torch.save file, such as net_.save_params writes: weights "
                "without the target scaling, classes and input handling of their estimator."
            )
        elif data[:1] == b"\x80":
            hint = " It looks like a pickle (joblib.dump, pickle.dump): load it with joblib.load."
        raise ModelFileError(
            f"{where} is not a sklearn-dnn model file (written by an estimator's save): "
            f"it does not start with {MAGIC!r}.{hint}"
        )
    start = len(MAGIC) + _LENGTH.size
    if len(data) < start:
        raise ModelFileError(f"{where} is truncated: it ends inside its header.")
    (length,) = _LENGTH.unpack(data[len(MAGIC) : start])
    if len(data) < start + length:
        raise ModelFileError(f"{where} is truncated: it ends inside its header.")
    try:
        header = json.loads(data[start : start + length].decode("utf-8"))
        version = header["format_version"]
        expected_bytes, digest = header["payload_bytes"], header["payload_sha256"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{where} has a corrupted header ({exc}).") from None
    if header.get("format") != FORMAT:
        raise ModelFileError(f"{where} has a corrupted header: it is not a {FORMAT!r}.")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{where} was written by sklearn-dnn {header.get('library_version')} in model "
            f"format version {version}; sklearn-dnn {_library_version()} reads versions up "
            f"to {FORMAT_VERSION}. Upgrade sklearn-dnn to load it."
        )
    payload = data[start + length :]
    if len(payload) != expected_bytes:
        raise ModelFileError(
            f"{where} is truncated or damaged: its model holds {len(payload)} bytes, its "
            f"header says {expected_bytes}."
        )
    if hashlib.sha256(payload).hexdigest() != digest:
        raise ModelFileError(
            f"{where} is corrupted: the SHA-256 digest of its model differs from the one "
            "its header recorded."
        )
    return header, payload


def load_estimator(cls, file):
    """The estimator of class ``cls`` saved in ``file`` (see :func:`save_estimator`)."""
    header, payload = read_header(file)
    expected = _class_name(cls)
    if header["estimator"] != expected:
        saved = _public_name(header["estimator"])
        raise ModelFileError(
            f"The file holds a {saved}, not a {cls.__name__}: load it with {saved}.load."
        )
    estimator = torch.load(io.BytesIO(payload), weights_only=False)
    if type(estimator) is not cls or estimator.n_features_in_ != header["n_features_in_"]:
        raise ModelFileError(
            f"The file's model ({type(estimator).__name__} of {estimator.n_features_in_} "
            f"features) is not the {cls.__name__} of {header['n_features_in_']} features "
            "its header describes."
        )
    if header["library_version"] != _library_version():
        warnings.warn(
            f"This {cls.__name__} was saved by sklearn-dnn {header['library_version']} and "
            f"is loaded by {_library_version()}: check its predictions, or refit it.",
            UserWarning,
            stacklevel=3,
        )
    return estimator


class PersistenceMixin:
    """``save`` and ``load`` for the estimators."""

    def save(self, path):
        """Save the fitted estimator, everything a prediction needs, to one file.

        The file holds the hyperparameters and every fitted attribute: the
        network (weights and architecture), a regressor's target scaling
        or a classifier's classes, the features it was fitted on and their
        handling. Load it with the class's :meth:`load`. A header records
        the format version, the sklearn-dnn version, the estimator's class,
        ``n_features_in_``, ``feature_names_in_`` and a SHA-256 digest of
        the model, which ``load`` checks before reading it.

        ``net_.save_params`` is not a substitute: it writes the network's
        weights only, and weights loaded into another estimator are read
        with that estimator's target scaling, classes and input handling.

        Parameters
        ----------
        path : str, path-like or binary file object
            Where to write. Use any name; ``.pt`` is a common choice.

        Returns
        -------
        self : object
            The estimator, unchanged.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            When the estimator is not fitted.

        Examples
        --------
        >>> import tempfile, os
        >>> import numpy as np
        >>> from sklearn_dnn import DeepRegressor
        >>> X = np.random.default_rng(0).normal(size=(100, 3))
        >>> model = DeepRegressor(max_epochs=5, random_state=0).fit(X, 100 * X[:, 0])
        >>> path = os.path.join(tempfile.mkdtemp(), "model.pt")
        >>> _ = model.save(path)
        >>> loaded = DeepRegressor.load(path)
        >>> bool((loaded.predict(X) == model.predict(X)).all())
        True
        """
        save_estimator(self, path)
        return self

    @classmethod
    def load(cls, path):
        """Load an estimator saved by :meth:`save`.

        The file's header is checked before anything else is read: a file
        that is not a model saved by sklearn-dnn, a newer format than this
        version reads, a truncated or corrupted file (its SHA-256 digest
        differs) or an estimator of another class (a DeepClassifier's file
        given to ``DeepRegressor.load``) raises a
        :class:`~sklearn_dnn.exceptions.ModelFileError`. A file written by
        another sklearn-dnn version loads with a warning.

        .. warning::
            The model is unpickled (``torch.load(weights_only=False)``), and
            unpickling can run code. The checks find damaged or mismatched
            files, not malicious ones: load only files from a source you
            trust, as with any pickle.

        Parameters
        ----------
        path : str, path-like or binary file object

        Returns
        -------
        estimator : fitted estimator of this class
            It predicts exactly as the saved one did, on the same machine.
        """
        return load_estimator(cls, path)
