"""Every report reader of the reporting read model, over one pool."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.reporting.adapters.booking_report import BookingReports
from services.reporting.adapters.lead_time_report import LeadTimeReports
from services.reporting.adapters.operations_report import OperationsReports
from services.reporting.adapters.satisfaction_report import SatisfactionReports
from services.reporting.adapters.sms_report import SmsDeliveryReports


@dataclass(frozen=True)
class Reports:
    bookings: BookingReports
    operations: OperationsReports
    satisfaction: SatisfactionReports
    lead_time: LeadTimeReports
    sms: SmsDeliveryReports

    @classmethod
    def over(cls, pool: asyncpg.Pool) -> Reports:
        return cls(
            BookingReports(pool),
            OperationsReports(pool),
            SatisfactionReports(pool),
            LeadTimeReports(pool),
            SmsDeliveryReports(pool),
        )
