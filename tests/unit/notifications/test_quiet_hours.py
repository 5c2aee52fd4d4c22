"""Quiet hours: no SMS between 21:00 and 08:00 Danish time unless the appointment is sooner,
and what the dispatcher does with a message that is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.domain.danish import DANISH_TIME
from services.notifications.domain.messages import MessageKind
from services.notifications.domain.quiet_hours import end_of_quiet, held_until, is_quiet
from services.notifications.domain.sending import Drop, Hold, SendNow, decide


def dk(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=DANISH_TIME)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (dk(2025, 3, 3, 7, 59), True),
        (dk(2025, 3, 3, 8, 0), False),
        (dk(2025, 3, 3, 20, 59), False),
        (dk(2025, 3, 3, 21, 0), True),
        (dk(2025, 3, 3, 0, 30), True),
        # 19:30 UTC is 21:30 in Danish summer time, 20:30 in winter
        (datetime(2025, 6, 2, 19, 30, tzinfo=UTC), True),
        (datetime(2025, 1, 6, 19, 30, tzinfo=UTC), False),
    ],
)
def test_quiet_hours_are_21_to_8_danish_local_time(moment: datetime, quiet: bool) -> None:
    assert is_quiet(moment) is quiet


def test_quiet_hours_end_at_the_next_8_oclock() -> None:
    assert end_of_quiet(dk(2025, 3, 3, 22, 15)) == dk(2025, 3, 4, 8, 0)
    assert end_of_quiet(dk(2025, 3, 4, 2, 0)) == dk(2025, 3, 4, 8, 0)


def test_quiet_hours_end_at_8_local_across_the_change_to_summer_time() -> None:
    # the night of 29-30 March 2025 loses an hour; 08:00 is then 06:00 UTC, not 07:00
    assert end_of_quiet(dk(2025, 3, 29, 23, 0)) == datetime(2025, 3, 30, 6, 0, tzinfo=UTC)


def test_message_due_in_quiet_hours_is_held_until_8() -> None:
    assert held_until(dk(2025, 3, 3, 21, 0), dk(2025, 3, 4, 9, 0)) == dk(2025, 3, 4, 8, 0)


def test_message_outside_quiet_hours_is_not_held() -> None:
    assert held_until(dk(2025, 3, 3, 20, 59), dk(2025, 3, 4, 9, 0)) is None


def test_appointment_sooner_than_8_is_not_held() -> None:
    assert held_until(dk(2025, 3, 3, 23, 0), dk(2025, 3, 4, 7, 30)) is None


def test_message_about_no_appointment_is_held() -> None:
    assert held_until(dk(2025, 3, 3, 23, 0), None) == dk(2025, 3, 4, 8, 0)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        is_quiet(datetime(2025, 3, 3, 23, 0))


NIGHT = dk(2025, 3, 3, 23, 0)
APPOINTMENT = dk(2025, 3, 5, 10, 0)
WINDOW = timedelta(minutes=30)


def test_reminder_due_at_night_is_held_until_morning() -> None:
    assert decide(NIGHT, MessageKind.reminder, NIGHT, APPOINTMENT, WINDOW) == Hold(
        dk(2025, 3, 4, 8, 0)
    )


def test_confirmation_of_a_booking_just_made_at_night_goes_at_once() -> None:
    booked_at = NIGHT - timedelta(minutes=2)
    assert decide(NIGHT, MessageKind.confirmation, booked_at, APPOINTMENT, WINDOW) == SendNow()


def test_confirmation_delayed_past_the_reply_window_waits_for_morning() -> None:
    booked_at = NIGHT - timedelta(hours=2)
    assert decide(NIGHT, MessageKind.confirmation, booked_at, APPOINTMENT, WINDOW) == Hold(
        dk(2025, 3, 4, 8, 0)
    )


def test_staff_cancellation_notice_at_night_waits_for_morning() -> None:
    assert decide(NIGHT, MessageKind.cancelled, NIGHT, APPOINTMENT, WINDOW) == Hold(
        dk(2025, 3, 4, 8, 0)
    )


def test_nothing_is_sent_about_an_appointment_that_has_begun() -> None:
    day = dk(2025, 3, 5, 10, 0)
    assert isinstance(decide(day, MessageKind.reminder, day, day, WINDOW), Drop)


def test_message_due_in_the_day_goes_at_once() -> None:
    day = dk(2025, 3, 4, 10, 0)
    assert decide(day, MessageKind.reminder, day, APPOINTMENT, WINDOW) == SendNow()
