"""Citizens' phone numbers, validated and normalised to E.164 (Danish by default)."""

from __future__ import annotations

import phonenumbers

from services.booking.domain.errors import Invalid


def normalise_phone(raw: str, region: str = "DK") -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise Invalid(f"{raw!r} is not a phone number") from error
    if not phonenumbers.is_valid_number(number):
        raise Invalid(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
