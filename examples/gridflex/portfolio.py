"""Price statistics of a trading portfolio, read from a CSV export."""

import pandas as pd


class PriceHistory:
    def __init__(self, path: str):
        self.path = path

    @property
    def daily(self) -> pd.DataFrame:
        return pd.read_csv(self.path, parse_dates=["day"]).groupby("day").mean()

    def spread(self) -> float:
        return float(self.daily["price"].max() - self.daily["price"].min())


def keep_active(readings: list, active_ids: list[int]) -> list:
    kept = []
    for reading in readings:
        if reading.sensor_id in set(active_ids):
            kept.append(reading)
    return kept


def tariff_bands(tariffs: list) -> list:
    return sorted({tariff.band for tariff in tariffs})


def assign_bands(readings: list, tariffs: list) -> None:
    for reading in readings:
        bands = tariff_bands(tariffs)
        reading.band = bands[min(reading.level, len(bands) - 1)]
