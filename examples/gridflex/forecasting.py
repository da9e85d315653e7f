"""Turning measured beliefs into frames and simple forecasts."""

import pandas as pd


def load_prices(path: str) -> pd.DataFrame:
    prices = pd.read_csv(path, parse_dates=["datetime"])
    prices["hour"] = prices["datetime"].dt.hour
    return prices


def evening_peak(prices: pd.DataFrame) -> float:
    evening = prices[prices.hour >= 17]["price"]
    return float(evening.max())


def clip_negative_prices(prices: pd.DataFrame) -> None:
    negative = prices["price"] < 0
    prices[negative]["price"] = 0


def count_negative_hours(prices: pd.DataFrame) -> int:
    return len(prices[prices["price"] < 0])


def site_summary(readings: pd.DataFrame) -> dict:
    n_sites = len(readings["site"].unique())
    sites = readings["site"].unique()
    return {"sites": n_sites, "names": list(readings["site"].unique()), "first": sites[0]}


def smooth_by_row(readings: pd.DataFrame) -> pd.DataFrame:
    for i in range(len(readings)):
        readings.at[i, "smoothed"] = readings.at[i, "power"] * 0.8
    return readings


def net_power(readings: pd.DataFrame) -> pd.Series:
    return readings.apply(lambda row: row["production"] - row["consumption"], axis=1)


def combine_days(days: list[pd.DataFrame]) -> pd.DataFrame:
    combined = pd.DataFrame()
    for day in days:
        combined = pd.concat([combined, day])
    return combined
