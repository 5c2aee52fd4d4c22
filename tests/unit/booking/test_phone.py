from __future__ import annotations

import pytest

from services.booking.domain.errors import Invalid
from services.booking.domain.phone import normalise_phone


@pytest.mark.parametrize("raw", ["20 30 40 50", "+45 20304050", "0045 20 30 40 50"])
def test_danish_numbers_are_normalised_to_e164(raw: str) -> None:
    assert normalise_phone(raw) == "+4520304050"


@pytest.mark.parametrize("raw", ["12", "not a number", "+45 1234"])
def test_invalid_numbers_are_refused(raw: str) -> None:
    with pytest.raises(Invalid):
        normalise_phone(raw)
