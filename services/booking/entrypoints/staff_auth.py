"""Staff authentication of the booking routes: the shared dependencies of infra/staff_auth.py,
named here so the booking routes import them from beside themselves."""

from __future__ import annotations

from infra.staff_auth import BOOKING_ROLES, StaffCheck, staff_guard

__all__ = ["BOOKING_ROLES", "StaffCheck", "staff_guard"]
