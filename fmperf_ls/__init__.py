"""fmperf: performance anti-patterns in SQLAlchemy, pandas, Pyomo, marshmallow and RQ code."""

__version__ = "0.1.0"
