"""Writes models_0_1_0.pkl: run with the 0.1.0 source (git archive 6a7456e) first on PYTHONPATH,
in the floor environment (.ci/floors.txt), as: python make_models_0_1_0.py models_0_1_0.pkl."""
import pickle, sys, warnings
import numpy as np
from torch import nn
from sklearn.datasets import make_classification, make_regression
from sklearn_dnn import DeepClassifier, DeepRegressor
import sklearn_dnn
assert sklearn_dnn.__file__.startswith("/tmp/old"), sklearn_dnn.__file__
warnings.simplefilter("ignore")
X, y = make_regression(60, 4, noise=1, random_state=0)
Xc, yc = make_classification(60, 4, n_informative=3, n_redundant=0, random_state=0)
Xc, X = Xc.astype(np.float32), X
common = dict(hidden_layer_sizes=(6, 5), max_epochs=3, random_state=0)
src = DeepClassifier(dropout=0.2, **common).fit(Xc, yc)
models = {
    "regressor_early_stopping_diagnostics": (DeepRegressor(early_stopping=True, diagnostics=True, batchnorm=True, **common).fit(X, y), X),
    "classifier_ensemble_prelu_dropout": (DeepClassifier(activation=nn.PReLU, ensemble_size=3, dropout=0.1, schedule="cosine", **common).fit(Xc, yc), Xc),
    "classifier_from_pretrained_frozen": (DeepClassifier.from_pretrained(src, n_frozen=1, max_epochs=2, random_state=0).fit(Xc, yc), Xc),
}
fixture = {}
for name, (model, data) in models.items():
    out = model.predict_proba(data) if hasattr(model, "predict_proba") else model.predict(data)
    fixture[name] = {"model": model, "X": data, "y": y if data is X else yc, "expected": out}
with open(sys.argv[1], "wb") as f:
    pickle.dump({"version": sklearn_dnn.__version__, "models": fixture}, f)
print({k: v["expected"][:2] for k, v in fixture.items()})
