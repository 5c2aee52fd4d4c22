"""A citizen on a phone books a time, gets the confirmation SMS, and moves the time through
the link in it; in headless Chromium against `borgerservice up --demo`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.browser.conftest import MUNICIPALITY, Demo, screenshot, wait_for

SITE, SERVICE = "korsoer", "pas"


def manage_link(demo: Demo, phone: str) -> str:
    """The link in the citizen's confirmation SMS, on this deployment."""
    sms = wait_for(lambda: demo.outbox(phone), what=f"an SMS to {phone}")
    found = re.search(r"https?://\S+/manage/\S+", sms[0]["body"])
    assert found, f"no manage link in the SMS: {sms[0]['body']}"
    link = urlsplit(found.group(0).rstrip("."))
    return f"{demo.base}{link.path}?{link.query}"


def test_citizen_books_a_time_and_the_confirmation_sms_is_in_the_outbox(
    demo: Demo, phone_page: Any
) -> None:
    page = phone_page
    wait_for(lambda: demo.free_times(SERVICE, SITE), what="the demo's times to be visible")

    page.goto(f"{demo.base}/")
    screenshot(page, "0-forside")
    page.get_by_role("link", name="Slagelse Kommune").click()
    page.get_by_role("radio", name=re.compile(r"^Pas\b")).check()
    screenshot(page, "1-borger-ydelse")
    page.get_by_role("button", name="Vælg sted").click()
    page.get_by_role("radio", name=re.compile("Borgerservice Korsør")).check()
    screenshot(page, "2-borger-sted")
    page.get_by_role("button", name="Se ledige tider").click()

    next_free = page.locator(".next .big").inner_text()
    screenshot(page, "3-borger-ledige-tider")
    page.get_by_role("button", name=re.compile("^Vælg første ledige tid")).click()
    page.get_by_label("Fulde navn").fill("Karen Jensen")
    page.get_by_label("Mobilnummer").fill("20 30 40 51")
    screenshot(page, "4-borger-oplysninger")
    page.get_by_label("Mobilnummer").press("Enter")  # the keyboard submits the form

    page.get_by_role("heading", name="Din tid er booket").wait_for()
    assert next_free in page.locator("dl.facts").inner_text()
    assert "Husk at medbringe" in page.content()
    assert page.get_by_role("listitem").filter(has_text="sundhedskort").count() == 1
    screenshot(page, "5-borger-bekraeftelse")

    sms = wait_for(lambda: demo.outbox("+4520304051"), what="the confirmation SMS")
    assert len(sms) == 1
    assert "Pas" in sms[0]["body"] and "Korsør" in sms[0]["body"]


def test_citizen_reschedules_through_the_link_in_the_sms(demo: Demo, phone_page: Any) -> None:
    page = phone_page
    free = wait_for(lambda: demo.free_times(SERVICE, SITE), what="free times")
    booked = demo.book(SERVICE, SITE, free[0]["starts_at"], "20 30 40 52")

    page.goto(manage_link(demo, "+4520304052"))
    page.get_by_role("heading", name="Din booking").wait_for()
    before = page.locator("#booking-time").inner_text()
    screenshot(page, "6-borger-min-booking")
    move = page.get_by_role("form", name="Flyt din tid")
    chosen = move.get_by_role("button").nth(1)
    new_time = chosen.get_attribute("value")
    chosen.click()

    page.get_by_text("Din tid er flyttet").wait_for()
    assert page.locator("#booking-time").inner_text() != before
    screenshot(page, "7-borger-tid-flyttet")
    token = booked["manage_token"]
    now = httpx.get(
        f"{demo.base}/api/v1/bookings/{booked['booking_id']}", headers={"X-Manage-Token": token}
    ).json()
    assert new_time is not None
    assert datetime.fromisoformat(now["starts_at"]) == datetime.fromisoformat(new_time)


def test_citizen_joins_the_waitlist_from_the_manage_page(demo: Demo, phone_page: Any) -> None:
    page = phone_page
    free = wait_for(lambda: demo.free_times(SERVICE, SITE), what="free times")
    demo.book(SERVICE, SITE, free[-1]["starts_at"], "20 30 40 53")
    page.goto(manage_link(demo, "+4520304053"))
    page.get_by_role("button", name="Skriv mig på ventelisten").click()
    page.get_by_text("Du står nu på ventelisten").wait_for(timeout=5000)
    screenshot(page, "8-borger-venteliste")


def test_the_pages_name_the_municipality_in_their_links(demo: Demo) -> None:
    """The front page lists the demo municipalities (a plain-HTTP check, no browser)."""
    front = httpx.get(f"{demo.base}/")
    assert front.status_code == 200
    assert f'href="/book/{MUNICIPALITY}"' in front.text
