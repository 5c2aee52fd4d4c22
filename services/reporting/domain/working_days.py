"""Danish working days of the offices: the ground's calendar (`infra/danish_days.py`), the
same one the booking service counts its guarantee in."""

from __future__ import annotations

from infra.danish_days import COPENHAGEN, is_working_day, working_days_between

__all__ = ["COPENHAGEN", "is_working_day", "working_days_between"]
