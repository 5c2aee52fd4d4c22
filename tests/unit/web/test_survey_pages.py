"""The survey page from the invitation SMS against a stand-in booking API."""

from __future__ import annotations

import time

from tests.unit.web.fake_api import BOOKING_ID, TOKEN, FakeApi, body_of, booking, ok, pages

SURVEY = f"/survey/{BOOKING_ID}"
ANSWER = f"/api/v1/bookings/{BOOKING_ID}/survey"


def after_the_visit() -> FakeApi:
    fake = FakeApi()
    fake.routes["GET", f"/api/v1/bookings/{BOOKING_ID}"] = fake.owned(
        lambda r: ok(booking(status="completed"))
    )
    fake.routes["POST", ANSWER] = fake.owned(lambda r: ok(booking(status="completed")))
    return fake


async def test_a_citizen_answers_the_three_questions_and_is_thanked() -> None:
    fake = after_the_visit()
    async with pages(fake) as web:
        page = await web.get(SURVEY, params={"token": TOKEN})
        answered = await web.post(
            SURVEY,
            data={
                "token": TOKEN,
                "satisfied_with_booking": "ja",
                "easy_to_find_time": "nej",
                "score": "4",
            },
        )
        thanks = await web.get(answered.headers["location"])
    assert page.status_code == 200
    for field in ("satisfied_with_booking-ja", "easy_to_find_time-nej", "score-5"):
        assert f'<label class="choice" for="{field}">' in page.text and f'id="{field}"' in page.text
    assert "Borgerservice Korsør" in page.text
    assert answered.status_code == 303 and answered.headers["location"] == f"{SURVEY}/tak"
    [sent] = fake.sent("POST", "/survey")
    assert sent.headers["x-manage-token"] == TOKEN
    assert body_of(sent) == {"satisfied_with_booking": True, "easy_to_find_time": False, "score": 4}
    assert "Tak for dine svar" in thanks.text


async def test_the_score_may_be_left_out_but_the_yes_no_questions_may_not() -> None:
    fake = after_the_visit()
    async with pages(fake) as web:
        incomplete = await web.post(SURVEY, data={"token": TOKEN, "satisfied_with_booking": "ja"})
        without_score = await web.post(
            SURVEY,
            data={"token": TOKEN, "satisfied_with_booking": "nej", "easy_to_find_time": "ja"},
        )
    assert incomplete.status_code == 422
    alert = incomplete.text.split('role="alert"')[1].split("</div>")[0]
    assert "let at finde en tid" in alert and "tilfreds med, at du skulle" not in alert
    assert 'value="ja" required checked' in incomplete.text  # the answer given is kept
    assert without_score.status_code == 303
    [sent] = fake.sent("POST", "/survey")  # the incomplete answer never reached the API
    assert body_of(sent)["score"] is None


async def test_an_expired_link_and_a_link_for_another_booking_are_told_apart() -> None:
    an_hour_ago, in_an_hour = int(time.time()) - 3600, int(time.time()) + 3600
    signature = "s" * 43  # well-formed, not genuine: the API refuses it
    async with pages(after_the_visit()) as web:
        expired = await web.get(SURVEY, params={"token": f"{an_hour_ago}.{signature}"})
        foreign = await web.get(SURVEY, params={"token": f"{in_an_hour}.{signature}"})
        missing = await web.get(SURVEY)
    assert expired.status_code == 410 and "Linket er udløbet" in expired.text
    assert foreign.status_code == 404 and "Linket virker ikke" in foreign.text
    assert missing.status_code == 404


async def test_a_second_answer_is_refused_with_a_clear_message() -> None:
    fake = after_the_visit()
    fake.routes["POST", ANSWER] = fake.owned(
        lambda r: ok({"detail": f"the survey for booking {BOOKING_ID} is already answered"}, 409)
    )
    async with pages(fake) as web:
        again = await web.post(
            SURVEY,
            data={"token": TOKEN, "satisfied_with_booking": "ja", "easy_to_find_time": "ja"},
        )
    assert again.status_code == 409 and "Du har allerede svaret" in again.text


async def test_before_the_visit_there_is_nothing_to_answer() -> None:
    async with pages(FakeApi()) as web:  # the booking is still booked
        page = await web.get(SURVEY, params={"token": TOKEN})
    assert page.status_code == 409 and "ikke afsluttet endnu" in page.text
    assert "<form" not in page.text


async def test_an_answered_survey_says_so_before_the_questions_are_shown() -> None:
    fake = after_the_visit()
    fake.routes["GET", f"/api/v1/bookings/{BOOKING_ID}"] = fake.owned(
        lambda r: ok(booking(status="completed", survey_answered=True))
    )
    async with pages(fake) as web:
        page = await web.get(SURVEY, params={"token": TOKEN})
    assert page.status_code == 409 and "Du har allerede svaret" in page.text
    assert "<form" not in page.text
