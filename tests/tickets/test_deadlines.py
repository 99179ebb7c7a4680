"""Deadlines over the 2026 holidays, checked against chinesecalendar itself."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from gateway.config import load_config
from gateway.tickets.deadlines import DeadlineCalculator, ExtensionRefused
from gateway.tickets.model import CN_TZ, parse_time

D = dt.date


def cst(day: D, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=CN_TZ)


def due_day(iso_text: str) -> D:
    return parse_time(iso_text).astimezone(CN_TZ).date()


def library_nth_workday(start: D, n: int) -> D:
    day = start
    while n:
        day += dt.timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


@pytest.fixture
def calc(config):
    return DeadlineCalculator(config)


def hotline(calc, day, rtype, agency="water", hour=10):
    return calc.compute(created=cst(day, hour), route="hotline", agency=agency, request_type=rtype)


def test_national_day_2026(calc):
    # the library's own view: 1-7 October off, Saturday 10 October worked (调休上班)
    assert not any(chinese_calendar.is_workday(D(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(D(2026, 10, 10)) and D(2026, 10, 10).weekday() == 5
    d = hotline(calc, D(2026, 9, 30), "consultation")
    assert due_day(d.due_at) == D(2026, 10, 8) == library_nth_workday(D(2026, 9, 30), 1)
    assert d.due_at.endswith("T15:59:59.999Z")  # 24:00 China time
    assert d.calendar == ["chinesecalendar"] and not d.calendar_unannounced
    # help, 3 working days from Thu 8 Oct: Fri 9, Sat 10 (adjusted working day), Mon 12
    d = hotline(calc, D(2026, 10, 8), "help")
    assert due_day(d.due_at) == D(2026, 10, 12) == library_nth_workday(D(2026, 10, 8), 3)
    d = hotline(calc, D(2026, 9, 28), "complaint")
    assert due_day(d.due_at) == library_nth_workday(D(2026, 9, 28), 15) == D(2026, 10, 23)


def test_spring_festival_2026_and_adjusted_saturday(calc):
    assert chinese_calendar.is_workday(D(2026, 2, 14)) and D(2026, 2, 14).weekday() == 5
    assert not any(chinese_calendar.is_workday(D(2026, 2, d)) for d in range(15, 24))
    d = hotline(calc, D(2026, 2, 13), "consultation")  # Friday: next working day is Saturday the 14th
    assert due_day(d.due_at) == D(2026, 2, 14)
    d = hotline(calc, D(2026, 2, 14), "suggestion")
    assert due_day(d.due_at) == D(2026, 2, 26) == library_nth_workday(D(2026, 2, 14), 3)
    d = hotline(calc, D(2026, 2, 10), "report")
    assert due_day(d.due_at) == library_nth_workday(D(2026, 2, 10), 15)


def test_extensions_at_most_two_of_ten_days(calc):
    created = cst(D(2026, 9, 28))
    d = calc.compute(created=created, route="hotline", agency="market", request_type="complaint")
    assert d.max_extensions == 2 and d.max_working_days == 35
    d1 = calc.extend(d, created=created, request_type="complaint")
    assert due_day(d1.due_at) == library_nth_workday(D(2026, 9, 28), 25) and d1.extensions_granted == 1
    d2 = calc.extend(d1, created=created, request_type="complaint")
    assert due_day(d2.due_at) == library_nth_workday(D(2026, 9, 28), 35)
    with pytest.raises(ExtensionRefused, match="at most 2 extension"):
        calc.extend(d2, created=created, request_type="complaint")
    # consultation: 1 day, extendable once to at most 3
    c = calc.compute(created=created, route="hotline", agency="water", request_type="consultation")
    c1 = calc.extend(c, created=created, request_type="consultation")
    assert c1.working_days == 3
    with pytest.raises(ExtensionRefused):
        calc.extend(c1, created=created, request_type="consultation")


def test_unannounced_year_weekends_only_and_flagged(calc):
    d = hotline(calc, D(2030, 9, 30), "consultation")  # Monday
    assert due_day(d.due_at) == D(2030, 10, 1)  # no holidays known: weekends only
    assert d.calendar_unannounced and d.calendar == ["weekends_only"]
    d = hotline(calc, D(2026, 12, 30), "help")  # crosses into an unannounced year
    assert d.calendar_unannounced and "chinesecalendar" in d.calendar


def test_year_from_config(config_dir):
    (config_dir / "holidays.yaml").write_text(
        "years:\n  2030:\n    holidays: [2030-10-01, 2030-10-02, 2030-10-03]\n    workdays: [2030-10-12]\n",
        encoding="utf-8",
    )
    calc = DeadlineCalculator(load_config(config_dir / "gateway.yaml"))
    d = hotline(calc, D(2030, 9, 30), "consultation")
    assert due_day(d.due_at) == D(2030, 10, 4) and d.calendar == ["config"] and not d.calendar_unannounced
    d = hotline(calc, D(2030, 10, 11), "consultation")  # Friday → adjusted working Saturday
    assert due_day(d.due_at) == D(2030, 10, 12)


def test_handover_and_arrival_minutes(calc):
    t0 = cst(D(2026, 11, 23))
    d = calc.compute(created=t0, route="police", agency="police", request_type=None)
    assert parse_time(d.handover_due_at) - t0 == dt.timedelta(minutes=10)
    assert d.arrival_minutes == 30 and d.due_at is None
    arr = {
        a: calc.compute(
            created=t0, route="hotline", agency=a, request_type="help", urgency="urgent"
        ).arrival_minutes
        for a in ("township", "water", "gas", "market", "education")
    }
    assert arr == {"township": 30, "water": 30, "gas": 30, "market": 40, "education": 60}
    assert hotline(calc, D(2026, 11, 23), "help").arrival_due_at is None  # not urgent: no arrival clock


def test_calendar_config_check(config_dir):
    from gateway.tickets.checks import check_calendar

    assert check_calendar(load_config(config_dir / "gateway.yaml")) == []
    (config_dir / "holidays.yaml").write_text(
        "years:\n  2026:\n    holidays: [2026-10-01]\n  2031:\n    holidays: [2030-10-01, 2031-10-02]\n"
        "    workdays: [2031-10-02]\n",
        encoding="utf-8",
    )
    errors = check_calendar(load_config(config_dir / "gateway.yaml"))
    assert any("years.2031.holidays.0: 2030-10-01 is not in 2031" in e for e in errors)
    assert any("years.2031: both holiday and working day: 2031-10-02" in e for e in errors)
    assert any("chinesecalendar already knows 2026" in e for e in errors)
    assert all("holidays.yaml" in e for e in errors)
