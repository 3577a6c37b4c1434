"""The README's quickstart: DeepClassifier on digits, then a small grid search.

The code below the docstring is the README's quickstart block, line for line
(tests/test_readme.py checks that they agree). It runs in well under a minute
on 2 CPU cores, so it has no quick mode: SKLEARN_DNN_QUICK=1 runs it in full.

Run: python examples/quickstart.py
"""

from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dnn import DeepClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
model = make_pipeline(StandardScaler(), DeepClassifier(random_state=0))
print("test accuracy:", round(model.fit(X_train, y_train).score(X_test, y_test), 4))

# 2 candidates x 3 folds, then a refit: 7 fits
search = GridSearchCV(model, {"deepclassifier__hidden_layer_sizes": [(50,), (100, 100)]}, cv=3)
search.fit(X_train, y_train)
print(search.best_params_, "cross-validated accuracy:", round(search.best_score_, 4))
