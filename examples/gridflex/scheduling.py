"""A device scheduler as a Pyomo model: charge a battery within its limits."""

from pyomo.environ import ConcreteModel, Constraint, NonNegativeReals, RangeSet, Var


def build_model(prices: list[float], capacity: float, initial: float) -> ConcreteModel:
    model = ConcreteModel()
    model.J = RangeSet(0, len(prices) - 1)
    model.power = Var(model.J, domain=NonNegativeReals)

    def stock_within_capacity(m, j):
        return initial + sum(m.power[k] for k in range(0, j + 1)) <= capacity

    model.stock_limit = Constraint(model.J, rule=stock_within_capacity)
    return model


def match_sensors_to_readings(sensors: list, readings: list) -> list[tuple]:
    pairs = []
    for sensor in sensors:
        for reading in readings:
            if reading.sensor_id == sensor.id:
                pairs.append((sensor, reading))
    return pairs


def flagged_sensors(sensor_ids: list[int], readings: list) -> list:
    watched = [sensor_id for sensor_id in sensor_ids if sensor_id % 2 == 0]
    return [reading for reading in readings if reading.sensor_id in watched]
