"""The HTTP provider: a real SMS gateway, JSON over HTTPS with a bearer token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from services.notifications.adapters.sms import RejectedByGateway, SmsGatewayError
from services.notifications.domain.messages import Sms


@dataclass
class HttpGatewayProvider:
    """Posts one message per request, its idempotency key as `Idempotency-Key` and as
    `reference`, so the gateway drops a repeat. A 5xx, a timeout or a lost connection is an
    `SmsGatewayError` the dispatcher retries with backoff; a 4xx is `RejectedByGateway`, with
    the gateway's reason, and is not retried. The `id` of a JSON answer is the gateway's
    message id, which its delivery receipts name."""

    url: str
    token: str
    timeout: float = 10.0
    client: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.AsyncClient(timeout=self.timeout)

    async def send(self, message: Sms) -> str | None:
        try:
            response = await self.client.post(
                self.url,
                json={
                    "to": message.phone,
                    "body": message.body,
                    "reference": message.idempotency_key,
                },
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Idempotency-Key": message.idempotency_key,
                },
            )
        except httpx.TimeoutException as error:
            raise SmsGatewayError(f"no answer within {self.timeout}s") from error
        except httpx.TransportError as error:
            raise SmsGatewayError(f"gateway unreachable: {error}") from error
        if response.status_code >= 500:
            raise SmsGatewayError(f"{response.status_code}: {_reason(response)}")
        if response.status_code >= 400:
            raise RejectedByGateway(f"{response.status_code}: {_reason(response)}")
        return _message_id(response)

    async def aclose(self) -> None:
        await self.client.aclose()


def _message_id(response: httpx.Response) -> str | None:
    try:
        document: Any = response.json()
    except ValueError:
        return None
    found = document.get("id") if isinstance(document, dict) else None
    return str(found) if isinstance(found, str | int) and str(found) else None


def _reason(response: httpx.Response) -> str:
    """The gateway's own words: `error`, `message` or `detail` of a JSON body, else the text."""
    try:
        document: Any = response.json()
    except ValueError:
        document = None
    if isinstance(document, dict):
        for name in ("error", "message", "detail"):
            if isinstance(document.get(name), str):
                return str(document[name])
    return response.text[:500] or response.reason_phrase
