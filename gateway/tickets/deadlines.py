"""Deadlines of ROUTING.md (seeds 001, 002): hand-over, arrival on scene, working-day work orders."""

from __future__ import annotations

import datetime as dt

from gateway.config import Config
from gateway.config.models import WorkOrderRule
from gateway.tickets.model import CN_TZ, EMERGENCY_ROUTES, Deadlines, iso
from gateway.tickets.workcal import SOURCE_WEEKENDS, WorkCalendar


class ExtensionRefused(ValueError):
    """An extension beyond what the rules allow (at most two 10-day extensions, or the max days)."""


def arrival_minutes(config: Config, agency: str | None) -> int:
    """30 for a township (乡镇/街道) or a level-1 unit, 40 for other linked units (level 2),
    60 for other county departments (level 3)."""
    mins = config.deadlines.arrival_minutes
    if agency in config.agencies.agencies:
        a = config.agencies.agencies[agency]
        if a.scope == "township":
            return mins.township
        return {1: mins.level1, 2: mins.other}.get(a.level, mins.county)
    if agency in config.agencies.desks:
        return {1: mins.level1, 2: mins.other}.get(config.agencies.desks[agency].level, mins.county)
    return mins.county


def extension_limits(rule: WorkOrderRule) -> tuple[int, int]:
    """(max extensions, working days each adds) for a rule."""
    if rule.extension_days:
        return rule.max_extensions, rule.extension_days
    if rule.max_days and rule.max_days > rule.days:
        return max(rule.max_extensions, 1), rule.max_days - rule.days
    return 0, 0


def _end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59, 999000), CN_TZ)


class DeadlineCalculator:
    """Computes a ticket's deadlines from config/deadlines.yaml, agencies.yaml and the calendar."""

    def __init__(self, config: Config, calendar: WorkCalendar | None = None):
        self.config = config
        self.calendar = calendar or WorkCalendar(config.holidays)

    def work_order_due(self, created: dt.datetime, days: int) -> tuple[dt.datetime, list[str]]:
        """End (24:00 China time) of the ``days``-th working day after the intake day."""
        local = created.astimezone(CN_TZ).date()
        day, sources = self.calendar.add_working_days(local, days)
        return _end_of_day(day), sorted(sources)

    def compute(
        self,
        *,
        created: dt.datetime,
        route: str,
        agency: str | None,
        request_type: str | None,
        urgency: str = "normal",
    ) -> Deadlines:
        d = Deadlines()
        cfg = self.config.deadlines
        if route in EMERGENCY_ROUTES:
            d.handover_due_at = iso(created + dt.timedelta(minutes=cfg.emergency_handover_minutes))
        if route in EMERGENCY_ROUTES or urgency in ("emergency", "urgent"):
            d.arrival_minutes = arrival_minutes(
                self.config, agency if route == "hotline" else agency or route
            )
            d.arrival_due_at = iso(created + dt.timedelta(minutes=d.arrival_minutes))
        rule = cfg.work_order_days.get(request_type) if request_type and route == "hotline" else None
        if rule:
            due, sources = self.work_order_due(created, rule.days)
            d.base_due_at = d.due_at = iso(due)
            d.working_days = rule.days
            d.max_extensions, each = extension_limits(rule)
            d.max_working_days = rule.days + d.max_extensions * each
            d.calendar = sources
            d.calendar_unannounced = SOURCE_WEEKENDS in sources
        return d

    def extend(self, d: Deadlines, *, created: dt.datetime, request_type: str | None) -> Deadlines:
        """One granted extension; raises :class:`ExtensionRefused` past the limit."""
        rule = self.config.deadlines.work_order_days.get(request_type) if request_type else None
        if rule is None or d.working_days is None:
            raise ExtensionRefused("this ticket has no working-day deadline to extend")
        limit, each = extension_limits(rule)
        if d.extensions_granted >= limit:
            raise ExtensionRefused(
                f"{request_type}: at most {limit} extension(s) allowed, "
                f"{d.extensions_granted} already granted"
            )
        days = min(d.working_days + each, d.max_working_days or d.working_days + each)
        due, sources = self.work_order_due(created, days)
        out = d.model_copy(deep=True)
        out.working_days, out.due_at = days, iso(due)
        out.extensions_granted += 1
        out.calendar = sorted(set(out.calendar) | set(sources))
        out.calendar_unannounced = SOURCE_WEEKENDS in out.calendar
        return out
