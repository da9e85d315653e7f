"""Background work with RQ: forecasting jobs for a sensor."""

import pandas as pd
from redis import Redis
from rq import Queue

from .models import Sensor

queue = Queue("forecasting", connection=Redis())


def forecast_sensor(sensor: Sensor, history: pd.DataFrame) -> None:
    """Runs in the worker."""


def schedule_forecasts(history: pd.DataFrame) -> None:
    for sensor in Sensor.query.all():
        queue.enqueue(forecast_sensor, sensor, history)
