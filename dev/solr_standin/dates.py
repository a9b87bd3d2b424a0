"""Solr date strings and date math (``NOW-1DAY``, ``NOW/DAY+6MONTHS``...)."""
from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone

# Date-math unit names; plurals ("DAYS") are accepted by dropping the "S".
_UNITS = {"YEAR": "year", "MONTH": "month", "DAY": "day", "DATE": "day", "HOUR": "hour",
          "MINUTE": "minute", "SECOND": "second", "MILLI": "milli", "MILLISECOND": "milli"}


def parse_date(text: str) -> datetime:
    """Parse an ISO-8601 instant, ``YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)``.

    Like Solr (java.time's instant parser) we require a time and a zone and
    reject date-only strings; fractions are cut to milliseconds, Solr's
    resolution, and the result is in UTC.
    """
    if text.endswith("Z"):
        body, offset = text[:-1], timedelta(0)
    elif len(text) > 6 and text[-6] in "+-" and text[-3] == ":" and text[-5:-3].isdigit() \
            and text[-2:].isdigit():
        body = text[:-6]
        offset = timedelta(hours=int(text[-5:-3]), minutes=int(text[-2:])) * (-1 if text[-6] == "-" else 1)
    else:
        raise ValueError(f"Invalid Date String:'{text}'")
    main, _, fraction = body.partition(".")
    try:
        value = datetime.strptime(main, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise ValueError(f"Invalid Date String:'{text}'") from None
    if fraction and not fraction.isdigit():
        raise ValueError(f"Invalid Date String:'{text}'")
    millis = int((fraction + "000")[:3])
    return value.replace(microsecond=millis * 1000, tzinfo=timezone.utc) - offset


def format_date(value: datetime) -> str:
    """Format like Solr's ISO_INSTANT output: milliseconds only when non-zero."""
    text = value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    millis = value.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else text + "Z"


def _add(value: datetime, amount: int, unit: str) -> datetime:
    if unit in ("year", "month"):
        months = value.month - 1 + amount * (12 if unit == "year" else 1)
        year, month = value.year + months // 12, months % 12 + 1
        day = min(value.day, calendar.monthrange(year, month)[1])
        return value.replace(year=year, month=month, day=day)
    seconds = {"day": 86400, "hour": 3600, "minute": 60, "second": 1, "milli": 0.001}[unit]
    return value + timedelta(seconds=amount * seconds)


def _round(value: datetime, unit: str) -> datetime:
    """Round down to the start of ``unit`` (the ``/DAY`` operator)."""
    if unit == "milli":
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    parts = [value.year, value.month, value.day, value.hour, value.minute, value.second]
    keep = ["year", "month", "day", "hour", "minute", "second"].index(unit) + 1
    parts[keep:] = [1, 1, 1, 0, 0, 0][keep:]  # the first instant of the unit
    year, month, day, hour, minute, second = parts
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)


def resolve(expr: str, now: datetime) -> datetime:
    """Evaluate a date-math expression: an anchor then ``/UNIT`` / ``±NUNIT`` steps."""
    if expr.startswith("NOW"):
        value, rest = now, expr[3:]
    elif "Z" in expr:  # as Solr: math may only follow a date written with Z
        end = expr.index("Z")
        value, rest = parse_date(expr[:end + 1]), expr[end + 1:]
    else:
        value, rest = parse_date(expr), ""
    while rest:
        op, rest = rest[0], rest[1:]
        if op not in "+-/":
            raise ValueError(f"Invalid Date Math String:'{expr}'")
        digits = ""
        while op != "/" and rest[:1].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        unit_name = ""
        while rest[:1].isalpha():
            unit_name, rest = unit_name + rest[0], rest[1:]
        unit = _UNITS.get(unit_name.upper().removesuffix("S"))
        if unit is None or (op != "/" and not digits):
            raise ValueError(f"Invalid Date Math String:'{expr}'")
        value = _round(value, unit) if op == "/" else _add(value, int(digits) * (1 if op == "+" else -1), unit)
    return value
