"""Chinese working days: ``chinesecalendar`` for announced years, ``holidays.yaml`` for others.

A year known to neither is counted on weekends alone and reported as unannounced, never an error.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar

from gateway.config.models import HolidaysFile

SOURCE_LIBRARY = "chinesecalendar"
SOURCE_CONFIG = "config"
SOURCE_WEEKENDS = "weekends_only"  # the year is unannounced: holidays unknown


class WorkCalendar:
    """Answers "is this a working day" and adds working days, remembering which source it used."""

    def __init__(self, holidays: HolidaysFile | None = None):
        self._holidays: dict[int, set[dt.date]] = {}
        self._workdays: dict[int, set[dt.date]] = {}
        for year, spec in (holidays.years if holidays else {}).items():
            self._holidays[year] = set(spec.holidays)
            self._workdays[year] = set(spec.workdays)
        self.is_workday = lru_cache(maxsize=4096)(self._is_workday)  # type: ignore[method-assign]
        self.source = lru_cache(maxsize=256)(self._source)  # type: ignore[method-assign]
        self.add_working_days = lru_cache(maxsize=4096)(self._add_working_days)  # type: ignore[method-assign]

    def _source(self, year: int) -> str:
        """Where the calendar of ``year`` comes from (config wins over the library)."""
        if year in self._holidays:
            return SOURCE_CONFIG
        try:
            chinese_calendar.is_workday(dt.date(year, 6, 1))
            return SOURCE_LIBRARY
        except NotImplementedError:
            return SOURCE_WEEKENDS

    def _is_workday(self, day: dt.date) -> bool:
        if day.year in self._holidays:
            if day in self._workdays[day.year]:
                return True
            if day in self._holidays[day.year]:
                return False
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

    def _add_working_days(self, start: dt.date, days: int) -> tuple[dt.date, frozenset[str]]:
        """The ``days``-th working day after ``start`` (``start`` itself never counts).

        Returns the day and the set of calendar sources consulted, so a caller can flag a
        deadline that crossed an unannounced year.
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        day, left, sources = start, days, {self.source(start.year)}
        while left:
            day += dt.timedelta(days=1)
            sources.add(self.source(day.year))
            if self.is_workday(day):
                left -= 1
        return day, frozenset(sources)
