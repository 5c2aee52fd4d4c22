"""Re-seeding a changed file on the real event store: what a command exists for is applied as
its event, everything else is told as kept, with why; an unchanged file changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from importlib.resources import files

import pytest

from services.booking.application import BookingApplication
from services.booking.seed import apply_seed, parse_seed
from services.booking.settings import BookingSettings

FIRST_DAY = date(2030, 3, 4)  # a Monday
SLAGELSE = files("services.booking.seed").joinpath("slagelse.toml").read_text()
KORSOER_MONDAY = 'hours = { mon = "10:00-14:00", wed'


@pytest.fixture
def app(database_url: str) -> Iterator[BookingApplication]:
    application = BookingApplication(BookingSettings(database_url=database_url).eventsourcing_env())
    yield application
    application.close()


def reseed(app: BookingApplication, text: str, days: int) -> tuple[int, list[str]]:
    told: list[str] = []
    opened = apply_seed(app, parse_seed(text, "slagelse.toml"), FIRST_DAY, days, told.append)
    return opened, told


def test_reseeding_the_same_file_changes_and_tells_nothing(app: BookingApplication) -> None:
    first, told = reseed(app, SLAGELSE, 14)
    assert first > 0 and told == []
    assert reseed(app, SLAGELSE, 14) == (0, [])


def test_reseeding_a_changed_file_applies_what_commands_exist_for(app: BookingApplication) -> None:
    reseed(app, SLAGELSE, 14)
    changed = (
        SLAGELSE.replace("waiting_target_working_days = 7", "waiting_target_working_days = 5")
        .replace("Caspar Brands Plads 7", "Caspar Brands Plads 9")
        .replace('name = "Slagelse Kommune"', 'name = "Slagelse"')
    )
    changed += (
        '\n[[sites]]\nid = "boeslunde"\nname = "Borgerservice Boeslunde"\n'
        'address = "Boeslunde Bibliotek"\nslot_minutes = 15\nseats = 1\n'
        'hours = { tue = "10:00-12:00" }\n'
    )
    opened, told = reseed(app, changed, 14)
    assert told == [
        "slagelse: changed: waiting_target_working_days: 7 → 5",
        "slagelse: not changed: name: 'Slagelse Kommune' → 'Slagelse': no command changes it",
        "slagelse: changed: site korsoer: address 'Korsør Bibliotek, Caspar Brands Plads 7, "
        "4220 Korsør' → 'Korsør Bibliotek, Caspar Brands Plads 9, 4220 Korsør'",
        "slagelse: changed: site boeslunde: new",
    ]
    assert opened == 2  # the new site's two Tuesdays
    stored = app.get_municipality("slagelse")
    assert stored.waiting_target_working_days == 5
    assert stored.get_site("korsoer").address.endswith("Plads 9, 4220 Korsør")
    assert stored.get_site("boeslunde").name == "Borgerservice Boeslunde"
    assert stored.name == "Slagelse Kommune"
    assert reseed(app, changed, 14)[1] == [told[1]]  # applied once; the kept one is told again


def test_reseeding_other_hours_tells_the_open_days_it_keeps(app: BookingApplication) -> None:
    reseed(app, SLAGELSE, 14)
    longer = SLAGELSE.replace(KORSOER_MONDAY, 'hours = { mon = "08:00-18:00", wed')
    opened, told = reseed(app, longer, 21)
    assert told == [
        "slagelse: not changed: korsoer mon: 2 open days keep 16 times 10:00-13:45 with 2 "
        "seats (the file: 40 times 08:00-17:45): re-seeding does not change the times of days "
        "already open (issue 21)"
    ]
    assert opened > 0  # the week after the first two: opened from the file as it is now
    third_monday = FIRST_DAY + timedelta(days=14)
    assert len(app.get_site_day("slagelse", "korsoer", third_monday).slots) == 40
    assert len(app.get_site_day("slagelse", "korsoer", FIRST_DAY).slots) == 16


def test_a_roster_change_is_told_for_the_open_days_it_would_change(
    app: BookingApplication,
) -> None:
    reseed(app, SLAGELSE, 7)
    # Camilla, the only one with `vielse`, no longer works Mondays; Bo starts an hour later on
    # Thursdays, which changes the seats of four times but not the day's span or services.
    changed = SLAGELSE.replace(
        'hours = { mon = "09:00-15:00", wed = "08:00-15:00", thu = "08:00-15:00" }',
        'hours = { wed = "08:00-15:00", thu = "08:00-15:00" }',
    ).replace('thu = "12:00-17:30"', 'thu = "13:00-17:30"')
    _, told = reseed(app, changed, 7)
    kept = "re-seeding does not change the times of days already open (issue 21)"
    assert told == [
        "slagelse: not changed: slagelse mon: 1 open day keeps 28 times 08:00-14:45 with 2-3 "
        f"seats (the file: 2 seats, without vielse): {kept}",
        "slagelse: not changed: slagelse thu: 1 open day keeps 38 times 08:00-17:15 with 3-4 "
        f"seats (the file: 4 of them with other seats or services): {kept}",
    ]


def test_a_site_left_out_and_a_closed_weekday_are_told_as_kept(app: BookingApplication) -> None:
    reseed(app, SLAGELSE, 7)
    skaelskoer = SLAGELSE.index('[[sites]]\nid = "skaelskoer"')
    without = SLAGELSE[:skaelskoer] + SLAGELSE[SLAGELSE.index('[[sites]]\nid = "korsoer"') :]
    without = without.replace(KORSOER_MONDAY, "hours = { wed")
    opened, told = reseed(app, without, 7)
    assert opened == 0
    assert told == [
        "slagelse: not changed: site skaelskoer: not in the file: no command removes a site; "
        "its bookings stay valid",
        "slagelse: not changed: korsoer mon: 1 open day keeps 16 times 10:00-13:45 with 2 seats "
        "(the file: no times): re-seeding does not change the times of days already open "
        "(issue 21)",
    ]
    assert app.get_municipality("slagelse").get_site("skaelskoer").name
