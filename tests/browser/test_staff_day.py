"""Staff log in, check a citizen in, start and complete the visit; book for a caller; and
cancel a day's times in bulk; in headless Chromium against `borgerservice up --demo`."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import MUNICIPALITY, Demo, screenshot, staff_login, wait_for

SITE, SERVICE = "slagelse", "laegeskift"


def day_of(starts_at: str) -> str:
    return starts_at[:10]


def test_staff_check_in_start_and_complete_a_visit(demo: Demo, desk_page: Any) -> None:
    page = desk_page
    free = wait_for(lambda: demo.free_times(SERVICE, SITE), what="free times")
    booked = demo.book(SERVICE, SITE, free[0]["starts_at"], "20 30 40 61")

    staff_login(page, demo)
    page.goto(f"{demo.base}/staff/{MUNICIPALITY}/sites/{SITE}/days/{day_of(booked['starts_at'])}")
    row = page.locator(f"#booking-{booked['booking_id']}")
    assert "Karen Jensen" in row.inner_text()
    screenshot(page, "10-personale-dagsoversigt")

    for step, status in (("Tjek ind", "Tjekket ind"), ("Start", "I gang"), ("Afslut", "Afsluttet")):
        row.get_by_role("button", name=re.compile(f"^{step}:")).click()
        page.get_by_role("status").first.wait_for()
        assert row.locator(".status").inner_text() == status
    screenshot(page, "11-personale-besoeg-afsluttet")


def test_staff_book_for_a_citizen_on_the_phone(demo: Demo, desk_page: Any) -> None:
    page = desk_page
    wait_for(lambda: demo.free_times(SERVICE, SITE), what="free times")
    staff_login(page, demo)
    page.goto(f"{demo.base}/staff/{MUNICIPALITY}/book?service={SERVICE}&site={SITE}")
    page.get_by_label("Ledig tid").select_option(index=1)
    page.get_by_label("Navn").fill("Ole Hansen")
    page.get_by_label("Mobilnummer").fill("20 30 40 62")
    page.get_by_role("radio", name="Telefon").check()
    screenshot(page, "12-personale-book-for-borger")
    page.get_by_role("button", name="Book tiden").click()
    page.get_by_text("Tiden er booket").wait_for(timeout=5000)
    assert "Ole Hansen" in page.content()


def test_staff_cancel_a_days_times_in_bulk_with_a_reason(demo: Demo, desk_page: Any) -> None:
    page = desk_page
    site = "skaelskoer"
    free = wait_for(lambda: demo.free_times(SERVICE, site), what="free times")
    last_day = day_of(free[-1]["starts_at"])
    on_day = [t for t in free if day_of(t["starts_at"]) == last_day]
    booked = demo.book(SERVICE, site, on_day[0]["starts_at"], "20 30 40 63")

    staff_login(page, demo)
    page.goto(f"{demo.base}/staff/{MUNICIPALITY}/sites/{site}/days/{last_day}")
    page.get_by_text("Aflys flere tider").click()
    page.get_by_label("Begrundelse").fill("Medarbejder syg")
    page.get_by_role("checkbox", name=re.compile("Ja, aflys alle tider")).check()
    screenshot(page, "13-personale-aflys-flere")
    page.get_by_role("button", name="Aflys tiderne").click()
    page.get_by_text("1 booking er aflyst").wait_for()
    still_booked = page.locator(f"#booking-{booked['booking_id']} .status.booked")
    assert still_booked.count() == 0


def test_a_booking_whose_citizen_was_erased_shows_slettet(demo: Demo, desk_page: Any) -> None:
    page = desk_page
    free = wait_for(lambda: demo.free_times(SERVICE, SITE), what="free times")
    booked = demo.book(SERVICE, SITE, free[0]["starts_at"], "20 30 40 64")
    for step in ("check-in", "start", "complete"):
        demo.staff_step(booked["booking_id"], step)
    demo.staff_step(booked["booking_id"], "erase-citizen")  # the demo's token is an admin's

    staff_login(page, demo)
    page.goto(f"{demo.base}/staff/{MUNICIPALITY}/sites/{SITE}/days/{day_of(booked['starts_at'])}")
    row = page.locator(f"#booking-{booked['booking_id']}")
    assert row.locator("td").nth(1).inner_text().startswith("(slettet)")
    assert "Karen Jensen" not in row.inner_text()
