"""Write models_0_1_0.pkl, the fixture of tests/test_pickles_0_1.py.

Run with the 0.1.0 source first on the path, in the floor environment
(.ci/floors.txt), so that both test environments can read the file:

    git archive 6a7456e | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old python tests/data/make_models_0_1_0.py tests/data/models_0_1_0.pkl
"""

import pickle
import sys
import warnings


def main(path):
    import numpy as np
    from sklearn.datasets import make_classification, make_regression
    from torch import nn

    import sklearn_dnn
    from sklearn_dnn import DeepClassifier, DeepRegressor

    assert sklearn_dnn.__version__ == "0.1.0", sklearn_dnn.__version__
    warnings.simplefilter("ignore")
    X, y = make_regression(60, 4, noise=1, random_state=0)
    Xc, yc = make_classification(60, 4, n_informative=3, n_redundant=0, random_state=0)
    Xc = Xc.astype(np.float32)
    common = dict(hidden_layer_sizes=(6, 5), max_epochs=3, random_state=0)
    source = DeepClassifier(dropout=0.2, **common).fit(Xc, yc)
    regressor = DeepRegressor(early_stopping=True, diagnostics=True, batchnorm=True, **common)
    ensemble = DeepClassifier(
        activation=nn.PReLU, ensemble_size=3, dropout=0.1, schedule="cosine", **common
    )
    reuse = DeepClassifier.from_pretrained(source, n_frozen=1, max_epochs=2, random_state=0)
    models = {
        "regressor_early_stopping_diagnostics": (regressor.fit(X, y), X, y),
        "classifier_ensemble_prelu_dropout": (ensemble.fit(Xc, yc), Xc, yc),
        "classifier_from_pretrained_frozen": (reuse.fit(Xc, yc), Xc, yc),
    }
    fixture = {}
    for name, (model, data, target) in models.items():
        predict = getattr(model, "predict_proba", model.predict)
        fixture[name] = {"model": model, "X": data, "y": target, "expected": predict(data)}
    with open(path, "wb") as f:
        pickle.dump({"version": sklearn_dnn.__version__, "models": fixture}, f)


if __name__ == "__main__":
    main(sys.argv[1])
