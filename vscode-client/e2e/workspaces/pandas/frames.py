"""Readings above zero: chained indexing that fmperf reports as FMP201."""
import pandas as pd


def positive_b(values):
    df = pd.DataFrame({"a": values, "b": [v * 2 for v in values]})
    return df[df.a > 0]["b"]


print(positive_b([-1, 0, 1, 2]).tolist())
