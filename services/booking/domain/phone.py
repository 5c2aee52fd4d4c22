"""Citizens' phone numbers, validated and normalised to E.164 (Danish by default)."""

from __future__ import annotations

import phonenumbers

from infra.text import ascii_digits
from services.booking.domain.errors import Invalid


def normalise_phone(raw: str, region: str = "DK") -> str:
    """E.164, with digits of any script read as ASCII first: one citizen, one number."""
    try:
        number = phonenumbers.parse(ascii_digits(raw), region)
    except phonenumbers.NumberParseException as error:
        raise Invalid(f"{raw!r} is not a phone number") from error
    if not phonenumbers.is_valid_number(number):
        raise Invalid(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
