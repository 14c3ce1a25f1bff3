"""Tests of the windowed features: shape, causality, per-machine history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smartfactory_lib.ml.features import feature_names, window_features
from smartfactory_lib.simulation import simulate


@pytest.fixture(scope="module")
def readings() -> pd.DataFrame:
    """Four machines for three hours, one reading a minute."""
    return simulate(4, 3, rate_hz=1 / 60, seed=3).readings


def test_window_features_shape_and_names(readings: pd.DataFrame) -> None:
    """Check one row per reading, the advertised columns and no gaps."""
    features = window_features(readings, ["10min", "30min"])

    assert list(features.columns) == feature_names(["10min", "30min"])
    assert features.index.equals(readings.index)
    assert not features.isna().any().any()


def test_window_features_never_look_ahead(readings: pd.DataFrame) -> None:
    """Check that removing later readings changes no earlier feature."""
    full = window_features(readings)
    cut = readings["ts"].iloc[len(readings) // 2]
    early = readings[readings["ts"] < cut]

    partial = window_features(early)

    np.testing.assert_allclose(partial.to_numpy(), full.loc[early.index].to_numpy())


def test_window_features_keep_machines_apart(readings: pd.DataFrame) -> None:
    """Check that a machine's features ignore every other machine."""
    full = window_features(readings)
    one = readings[readings["machine_id"] == "m0002"]

    alone = window_features(one)

    np.testing.assert_allclose(alone.to_numpy(), full.loc[one.index].to_numpy())


def test_window_features_ignore_row_order(readings: pd.DataFrame) -> None:
    """Check that shuffled input gives the same features for each reading."""
    shuffled = readings.sample(frac=1.0, random_state=0)

    result = window_features(shuffled)

    expected = window_features(readings).loc[shuffled.index]
    np.testing.assert_allclose(result.to_numpy(), expected.to_numpy())


def test_window_features_slope_matches_least_squares(readings: pd.DataFrame) -> None:
    """Check the rolling slope against numpy's least-squares fit, per hour."""
    one = readings[readings["machine_id"] == "m0001"].iloc[:10]
    hours = np.arange(10) / 60.0

    features = window_features(one, ["10min"])

    expected = np.polyfit(hours, one["vibration_mm_s"].to_numpy(), 1)[0]
    assert features["vibration_mm_s__slope_10min"].iloc[-1] == pytest.approx(expected)
    expected_std = one["vibration_mm_s"].std()
    assert features["vibration_mm_s__std_10min"].iloc[-1] == pytest.approx(expected_std)


def test_window_features_fill_a_dropout(readings: pd.DataFrame) -> None:
    """Check that a missing value takes its window mean and leaves no NaN."""
    broken = readings.copy()
    row = broken.index[40]
    broken.loc[row, "temperature_c"] = np.nan

    features = window_features(broken, ["10min"])

    assert not features.isna().any().any()
    value = features.loc[row, "temperature_c"]
    assert value == pytest.approx(features.loc[row, "temperature_c__mean_10min"])


@pytest.mark.parametrize(
    ("windows", "match"),
    [
        ([], "at least one window"),
        (["ten minutes"], "pandas offsets"),
        (["-5min"], "positive"),
    ],
)
def test_window_features_reject_bad_windows(
    readings: pd.DataFrame, windows: list[str], match: str
) -> None:
    """Check that a bad window is named in the error."""
    with pytest.raises(ValueError, match=match):
        window_features(readings, windows)


def test_window_features_name_missing_columns(readings: pd.DataFrame) -> None:
    """Check that a missing signal column is named."""
    with pytest.raises(ValueError, match="missing vibration_mm_s"):
        window_features(readings.drop(columns="vibration_mm_s"))


def test_window_features_accept_an_empty_batch(readings: pd.DataFrame) -> None:
    """Check that an empty batch gives an empty table with the columns."""
    result = window_features(readings.iloc[:0])

    assert result.empty
    assert list(result.columns) == feature_names()
