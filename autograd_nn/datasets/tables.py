"""The small data tables of the reference networks R1-R4 (docs/reference-networks.md).

Every function returns fresh float64 arrays, rows are samples and targets are columns.
"""

from __future__ import annotations

import numpy as np

# R4's features are weight in pounds minus 135 and height in inches minus 66.
WEIGHT_SHIFT_LB = 135.0
HEIGHT_SHIFT_IN = 66.0
POUNDS_PER_KG = 1 / 0.45359237
INCHES_PER_CM = 1 / 2.54


def truth_table_r1() -> tuple[np.ndarray, np.ndarray]:
    """R1's four rows exactly as specified, ``X`` (4, 3) (third column a constant 1) and
    ``y`` (4, 1).

    Note: the specification (docs/reference-networks.md) calls the label the XOR of the first
    two columns, but with these rows it equals the first column (row [1, 1, 1] has label 1,
    row [0, 1, 1] label 0); the rows and labels are kept as specified. R2's table is the XOR
    one.
    """
    X = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=np.float64)
    y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    return X, y


def truth_table_r2() -> tuple[np.ndarray, np.ndarray]:
    """R2's four rows: the label is the XOR of the first two columns, the third is a constant 1.
    ``X`` (4, 3), ``y`` (4, 1)."""
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
    y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    return X, y


def study_sleep_scores() -> tuple[np.ndarray, np.ndarray]:
    """R3, unscaled: ``X`` (3, 2) hours studied and hours slept, ``y`` (3, 1) test scores.
    R3 scales with ``X / X.max(axis=0)`` and ``y / 100``; scale new inputs with the
    *training* maxima."""
    X = np.array([[2, 9], [1, 5], [3, 6]], dtype=np.float64)
    y = np.array([[92], [86], [89]], dtype=np.float64)
    return X, y


def people_weight_height() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """R4: ``X`` (4, 2) weight (lb) - 135 and height (in) - 66, ``y`` (4,) with 1 = female,
    0 = male, and the names ("Alice", "Bob", "Charlie", "Diana")."""
    X = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]], dtype=np.float64)
    y = np.array([1, 0, 0, 1], dtype=np.float64)
    return X, y, ("Alice", "Bob", "Charlie", "Diana")


def people_new() -> tuple[np.ndarray, tuple[str, ...]]:
    """R4's two people to predict after training: Emily [-7, -3] (female) and Frank [20, 2]
    (male), in the same shifted pounds/inches."""
    return np.array([[-7, -3], [20, 2]], dtype=np.float64), ("Emily", "Frank")


def person_features(weight_kg: float, height_cm: float) -> np.ndarray:
    """R4's features of someone measured in kilograms and centimetres: pounds - 135 and
    inches - 66, shape (2,)."""
    return np.array([weight_kg * POUNDS_PER_KG - WEIGHT_SHIFT_LB,
                     height_cm * INCHES_PER_CM - HEIGHT_SHIFT_IN], dtype=np.float64)
