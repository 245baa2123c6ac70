"""Bundled data: the reference networks' tables, Iris, digits, and toy generators."""

from .bundled import IRIS_FEATURES, load_digits, load_iris
from .synthetic import make_moons, make_spirals
from .tables import (
    HEIGHT_SHIFT_IN,
    WEIGHT_SHIFT_LB,
    people_new,
    people_weight_height,
    person_features,
    study_sleep_scores,
    truth_table_r1,
    truth_table_r2,
)

__all__ = [
    "HEIGHT_SHIFT_IN", "IRIS_FEATURES", "WEIGHT_SHIFT_LB", "load_digits", "load_iris",
    "make_moons", "make_spirals", "people_new", "people_weight_height", "person_features",
    "study_sleep_scores", "truth_table_r1", "truth_table_r2",
]
