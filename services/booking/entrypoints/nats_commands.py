"""Booking commands over NATS request-reply: `bs.<municipality>.cmd.<verb>`.

Each reply is `{"ok": true, "booking": {...}}` or `{"ok": false, "status": 404|409|422,
"detail": "..."}`, the same outcomes as the HTTP API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, Literal

from faststream.nats import NatsBroker, NatsMessage
from pydantic import BaseModel, ValidationError

from infra.asyncapi import RequestReply
from infra.manage_token import ManageTokens
from infra.streams import command_subject
from services.booking.application import BookingApplication
from services.booking.commands import BookTime, CancelBooking, Command, RescheduleBooking
from services.booking.domain.booking import Booking
from services.booking.domain.errors import BookingError, Conflict, NotFound
from services.booking.entrypoints.manage_access import booking_token
from services.booking.entrypoints.schemas import BookingView

QUEUE = "booking-commands"


class CommandDone(BaseModel):
    """The command was carried out: the booking as it now is, and its manage token."""

    ok: Literal[True] = True
    booking: BookingView
    manage_token: str


class CommandRefused(BaseModel):
    """The command was refused, with the status the HTTP API answers for the same reason."""

    ok: Literal[False] = False
    status: Literal[404, 409, 422]
    detail: str


REPLIES = (CommandDone, CommandRefused)
# What the handlers below answer; the bus's AsyncAPI document (infra/asyncapi.py) is made from it.
COMMANDS = (
    RequestReply(
        "book", "Books a time in the municipality of the subject.", BookTime, REPLIES, QUEUE,
        from_subject=("municipality",),
    ),
    RequestReply(
        "reschedule", "Moves a booking of the municipality to another time.",
        RescheduleBooking, REPLIES, QUEUE,
    ),
    RequestReply("cancel", "Cancels a booking of the municipality.", CancelBooking, REPLIES, QUEUE),
)  # fmt: skip


def error_reply(status: Literal[404, 409, 422], detail: str) -> dict[str, Any]:
    return CommandRefused(status=status, detail=detail).model_dump(mode="json")


def status_of(error: BookingError) -> Literal[404, 409, 422]:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict):
        return 409
    return 422


def register_command_handlers(
    broker: NatsBroker, app: BookingApplication, tokens: ManageTokens
) -> None:
    async def execute(
        message: NatsMessage,
        build: Callable[[str, dict[str, Any]], Command],
        run: Callable[[Any], Booking],
    ) -> dict[str, Any]:
        municipality = municipality_of(message)
        try:
            body = json.loads(message.body)
            if not isinstance(body, dict):
                return error_reply(422, "the command must be a JSON object")
            command = build(municipality, body)
            booking = await asyncio.to_thread(run, command)
        except json.JSONDecodeError as error:
            return error_reply(422, f"not JSON: {error}")
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            )
            return error_reply(422, problems)
        except BookingError as error:
            return error_reply(status_of(error), str(error))
        done = CommandDone(
            booking=BookingView.of(booking), manage_token=booking_token(tokens, booking)
        )
        return done.model_dump(mode="json")

    def within(municipality: str, change: Callable[[Any], Booking]) -> Callable[[Any], Booking]:
        """A change to an existing booking, refused unless it belongs to `municipality`."""

        def run(command: RescheduleBooking | CancelBooking) -> Booking:
            if app.get_booking(command.booking_id).municipality != municipality:
                raise NotFound(f"no booking {command.booking_id}")
            return change(command)

        return run

    def municipality_of(message: NatsMessage) -> str:
        return str(message.raw_message.subject.split(".")[1])

    @broker.subscriber(command_subject("*", "book"), queue=QUEUE)
    async def book_time(body: Any, message: NatsMessage) -> dict[str, Any]:
        return await execute(
            message, lambda m, b: BookTime.model_validate({**b, "municipality": m}), app.book
        )

    @broker.subscriber(command_subject("*", "reschedule"), queue=QUEUE)
    async def reschedule_booking(body: Any, message: NatsMessage) -> dict[str, Any]:
        return await execute(
            message,
            lambda _, b: RescheduleBooking.model_validate(b),
            within(municipality_of(message), app.reschedule),
        )

    @broker.subscriber(command_subject("*", "cancel"), queue=QUEUE)
    async def cancel_booking(body: Any, message: NatsMessage) -> dict[str, Any]:
        return await execute(
            message,
            lambda _, b: CancelBooking.model_validate(b),
            within(municipality_of(message), app.cancel),
        )
