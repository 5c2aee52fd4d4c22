"""Citizens' phone numbers as the service keys them: E.164, Danish when no country is given."""

from __future__ import annotations

import phonenumbers


class InvalidPhone(ValueError):
    """Not a phone number that can receive an SMS."""


def normalise_phone(raw: str, region: str = "DK") -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone(f"{raw!r} is not a phone number") from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
