"""Rasa's logistic-regression intent classifier, saved as plain arrays.

Rasa 3.6 saves the classifier with `skops`, whose import alone costs about five seconds at
every start. A logistic regression is just its weights: this subclass keeps them in a NumPy
`.npz` file (no pickle), which loads in milliseconds, and lays them out so that predicting
copies nothing. Training and prediction are Rasa's own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

_WEIGHTS = "weights.npz"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearIntentClassifier(LogisticRegressionClassifier):
    """`LogisticRegressionClassifier` that persists its weights with NumPy."""

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(
                directory / _WEIGHTS,
                coef=self.clf.coef_,
                intercept=self.clf.intercept_,
                classes=np.asarray(self.clf.classes_, dtype=str),
            )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        component = cls(config, execution_context.node_name, model_storage, resource)
        with model_storage.read_from(resource) as directory, np.load(directory / _WEIGHTS) as weights:
            # Fortran order makes coef_.T contiguous: scikit-learn multiplies the sparse features
            # by coef_.T, and scipy would otherwise copy the whole matrix for every message.
            component.clf.coef_ = np.asfortranarray(weights["coef"])
            component.clf.intercept_ = weights["intercept"]
            component.clf.classes_ = weights["classes"]
        component.clf.n_features_in_ = component.clf.coef_.shape[1]
        return component
