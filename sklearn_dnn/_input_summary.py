"""What the inputs a network was trained on looked like, to tell a transfer that changed them.

Pretrained layers learned to read their source's inputs: reused after a
preprocessing fitted anew on the target's rows (a Pipeline around
``from_pretrained(pipeline[-1])`` refits its scaler), the same raw value
reaches them as another number. On a regression target drawn from
another region of the inputs this cost 0.13 R^2 (see
``docs/guide/transfer.md``), silently.

A fit records :class:`InputSummary` of its inputs (``_input_summary_``),
``from_pretrained`` copies the source's into the reused layers, and the
new fit compares its own with :func:`refit_warning`. A refitted scaler
leaves a fingerprint on what it returns: columns standardized (or scaled
to [0, 1]) on exactly the rows of this fit, to rounding error, which no
sample of another distribution, nor a random sample of the same one,
shows by chance (its means move by about 1/sqrt(rows)). The fingerprint
alone would also catch a harmless refit on data like the source's, so
the warning also needs a scaled column's shape to differ clearly from the
source's: a decile (relative to the median and the interquartile range)
more than :data:`Z_THRESHOLD` of its standard errors away
(:func:`decile_distance`). A pure shift or rescaling of a column is
invisible after standardization and goes unwarned; so does any
preprocessing that leaves no fingerprint (quantile transforms, encoders).
"""

from dataclasses import dataclass

import numpy as np

# Rows used for the deciles (a regular sample of larger sets): enough for
# deciles to 0.05 standard deviations, cheap next to one epoch.
SAMPLE_ROWS = 5000
LEVELS = np.linspace(0.01, 0.99, 99)  # percentiles
DECILES = slice(9, 90, 10)  # the deciles among them
Z_THRESHOLD = 12.0  # standard errors: the deciles of all columns rarely reach it by chance
# A column was scaled on exactly these rows when its mean and standard
# deviation (population, as StandardScaler's) are 0 and 1 to this many
# units: float32 rounding, not sampling. (A minimum of 0 and a maximum of 1
# is no such mark: pixels divided by their range, shares and indicators
# have them without any scaler; the docs' from_pretrained example on
# digits / 16 warned falsely with it.)
FINGERPRINT = 1e-4


@dataclass(frozen=True)
class InputSummary:
    """Per-column statistics of a fit's inputs.

    Attributes
    ----------
    n_rows : int
    mean, std : ndarray of shape (n_features,)
    percentiles : ndarray of shape (99, n_features)
        Of the columns standardized by their own mean and std, from at
        most :data:`SAMPLE_ROWS` rows.
    scaled_here : ndarray of bool, shape (n_features,)
        Columns standardized on exactly these rows.
    """

    n_rows: int
    mean: np.ndarray
    std: np.ndarray
    percentiles: np.ndarray
    scaled_here: np.ndarray


def summarize_inputs(X):
    """The :class:`InputSummary` of a dense ``X``; None for a sparse one or one row."""
    if not isinstance(X, np.ndarray) or X.shape[0] < 2:
        return None
    X64 = X.astype(np.float64, copy=False)
    mean, std = X64.mean(axis=0), X64.std(axis=0)
    standardized = (np.abs(mean) < FINGERPRINT) & (np.abs(std - 1.0) < FINGERPRINT)
    rows = np.linspace(0, len(X64) - 1, min(len(X64), SAMPLE_ROWS)).round().astype(int)
    spread = np.where(std > 0, std, 1.0)
    percentiles = np.quantile((X64[rows] - mean) / spread, LEVELS, axis=0)
    return InputSummary(len(X64), mean, std, percentiles, standardized)


def _robust(percentiles):
    """Percentiles relative to their median, in units of their interquartile range."""
    iqr = percentiles[74] - percentiles[24]
    return (percentiles - percentiles[49]) / np.where(iqr > 0, iqr, 1.0)


def decile_distance(source, new):
    """Per column, how many standard errors the new deciles lie from the source's, at most.

    Both in units of their own median and interquartile range (the mean
    and std that standardized a skewed column are noisier than its
    quantiles). A decile's standard error, sqrt(p (1 - p) / n) over the
    density there (measured on the source's percentiles), counts both
    samples' rows; a gap under 0.2 interquartile ranges never counts.
    """
    source_p, new_p = _robust(source.percentiles), _robust(new.percentiles)
    n_source, n_new = (min(s.n_rows, SAMPLE_ROWS) for s in (source, new))
    levels = LEVELS[DECILES]
    width = (source_p[10:91:10] - source_p[8:89:10]) / 0.02  # 1 / density at each decile
    error = np.sqrt(levels * (1 - levels) * (1 / n_source + 1 / n_new))[:, None] * width
    gap = np.abs(new_p[DECILES] - source_p[DECILES])
    z = np.where(gap > 0.2, gap / np.maximum(error, 1e-12), 0.0)
    return z.max(axis=0)


def shape_threshold(source, new):
    """The decile distance (in standard errors) above which a column's shape clearly differs."""
    return Z_THRESHOLD


def refit_warning(source, new, feature_names=None):
    """The warning's message when ``new`` inputs look rescaled on other data than ``source``'s.

    None when either summary is missing, when fewer than half the
    columns with spread were scaled on the new fit's rows, or when the
    scaled columns' shapes match the source's.
    """
    if source is None or new is None or source.mean.shape != new.mean.shape:
        return None
    varies = (new.std > 0) & (source.std > 0)
    scaled = new.scaled_here & varies
    if not varies.any() or scaled.sum() < 0.5 * varies.sum():
        return None
    distance = np.where(scaled, decile_distance(source, new), 0.0)
    # A source whose inputs were not scaled like these: their units differ too.
    unscaled_source = (
        scaled
        & ~source.scaled_here
        & ((np.abs(source.mean) > 0.5 * source.std) | (np.abs(np.log(source.std)) > np.log(2)))
    )
    differ = (distance > shape_threshold(source, new)) | unscaled_source
    if not differ.any():
        return None
    worst = np.argsort(-(distance + unscaled_source))[: min(3, int(differ.sum()))]
    names = [str(feature_names[j]) if feature_names is not None else f"column {j}" for j in worst]
    return (
        "The pretrained layers were trained on other inputs: this fit's columns were "
        "scaled on its own rows (by a preprocessing fitted in this fit, such as a "
        "Pipeline's StandardScaler), and their distribution differs from the inputs of "
        f"the source network ({', '.join(names)}). The same raw value now reaches the "
        "reused layers as another number. Keep the source's fitted preprocessing: "
        "from_pretrained(source_pipeline, keep_preprocessing=True) returns a Pipeline "
        "with it frozen."
    )
