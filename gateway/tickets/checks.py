"""``linkage config check`` extras for tickets: holidays.yaml and deadlines.yaml consistency."""

from __future__ import annotations

from gateway.config import Config
from gateway.tickets.workcal import SOURCE_LIBRARY, WorkCalendar


def check_calendar(config: Config) -> list[str]:
    """Dates belong to their year, no date is both a holiday and a working day, and a year
    the library already knows is flagged (config would silently override the State Council)."""
    errors: list[str] = []
    f = config.config_dir / config.gateway.holidays
    library = WorkCalendar()
    for year, spec in config.holidays.years.items():
        for kind in ("holidays", "workdays"):
            for i, day in enumerate(getattr(spec, kind)):
                if day.year != year:
                    errors.append(f"{f}: years.{year}.{kind}.{i}: {day} is not in {year}")
        both = sorted(set(spec.holidays) & set(spec.workdays))
        if both:
            errors.append(f"{f}: years.{year}: both holiday and working day: {', '.join(map(str, both))}")
        if library.source(year) == SOURCE_LIBRARY:
            errors.append(f"{f}: years.{year}: chinesecalendar already knows {year}; remove it from config")
    rules = config.deadlines.work_order_days
    d = config.config_dir / config.gateway.deadlines
    for name, rule in rules.items():
        if rule.max_days is not None and rule.max_days < rule.days:
            errors.append(f"{d}: work_order_days.{name}.max_days: smaller than days ({rule.days})")
    return errors
