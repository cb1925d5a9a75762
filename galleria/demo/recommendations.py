"""Demo: train the recommender once on the seeded sales and store its offline scores (docs/recommendations.md), so
the app's "为你推荐" block and the console's recommendations page show a real model from the first start."""

from __future__ import annotations

import contextlib

from galleria.recommendations.exceptions import NothingToTrainError
from galleria.recommendations.services import model_evaluate, model_train


def seed_recommendations(*, mall_group_id: int) -> None:
    with contextlib.suppress(NothingToTrainError):
        model_train(mall_group_id=mall_group_id)
        model_evaluate(mall_group_id=mall_group_id)
