"""Capacity comes from the staff on duty and their competences; libraries are served by a
video specialist whose time is never sold twice."""

from __future__ import annotations

from datetime import date, time

import pytest

from services.booking.domain.municipality import Service
from services.booking.domain.opening_hours import OpeningHours, parse_week
from services.booking.domain.roster import Acute, RosteredSite, StaffMember, check_no_double_duty
from services.booking.seed import MunicipalitySeed

TUESDAY = date(2030, 3, 5)
PAS = Service("pas", "Pas", 15, (), competence="id-dokumenter")
FLYTNING = Service("flytning", "Flytning", 15, (), competence="folkeregister", video=True)
OPEN = OpeningHours(parse_week({"tue": "09:00-11:00"}), 30, 0, ("pas", "flytning"))


def member(name: str, competences: set[str], hours: str) -> StaffMember:
    return StaffMember(name, frozenset(competences), parse_week({"tue": hours}))


def test_capacity_is_the_staff_on_duty_at_each_time() -> None:
    site = RosteredSite(
        OPEN,
        (
            member("A", {"id-dokumenter"}, "09:00-11:00"),
            member("B", {"id-dokumenter"}, "10:00-11:00"),
        ),
        (PAS,),
    )
    assert [s["capacity"] for s in site.slots_on(TUESDAY)] == [1, 1, 2, 2]


def test_a_service_is_offered_only_when_someone_on_duty_has_its_competence() -> None:
    site = RosteredSite(
        OPEN,
        (
            member("A", {"id-dokumenter"}, "09:00-11:00"),
            member("B", {"folkeregister"}, "10:00-11:00"),
        ),
        (PAS, FLYTNING),
    )
    services = [s["services"] for s in site.slots_on(TUESDAY)]
    assert services[0] == ["pas"] and services[2] == ["pas", "flytning"]


def test_a_library_served_by_video_offers_only_video_services() -> None:
    library = RosteredSite(
        OPEN,
        (member("Ole", {"id-dokumenter", "folkeregister"}, "09:00-10:00"),),
        (PAS, FLYTNING),
        by_video=True,
    )
    slots = library.slots_on(TUESDAY)
    assert [s["services"] for s in slots] == [["flytning"], ["flytning"]]


def test_a_specialist_cannot_be_at_a_library_and_the_central_office_at_once() -> None:
    central = RosteredSite(OPEN, (member("Ole", {"digital"}, "09:00-10:00"),), (PAS,))
    library = RosteredSite(OPEN, (member("Ole", {"digital"}, "09:30-11:00"),), (PAS,), True)
    with pytest.raises(ValueError, match="Ole is rostered by video and at the central office"):
        check_no_double_duty(central, [library])


def test_acute_seats_are_held_back_only_before_the_release_time() -> None:
    site = RosteredSite(
        OPEN,
        (
            member("A", {"id-dokumenter"}, "09:00-11:00"),
            member("B", {"id-dokumenter"}, "09:00-11:00"),
        ),
        (PAS,),
        acute=Acute(seats=1, release_at=time(10, 0)),
    )
    slots = site.slots_on(TUESDAY)
    assert [(s["capacity"], s["acute_capacity"]) for s in slots] == [(1, 1), (1, 1), (2, 0), (2, 0)]


def test_the_demo_libraries_are_served_by_herning_specialist() -> None:
    from services.booking.seed import load_seed

    herning: MunicipalitySeed = load_seed(demo="herning")
    aulum = next(s for s in herning.sites if s["id"] == "aulum-bibliotek")
    assert aulum["video_from"] == "herning"
    slots = herning.hours["aulum-bibliotek"].slots_on(TUESDAY)
    assert slots and all("pas" not in s["services"] for s in slots)
