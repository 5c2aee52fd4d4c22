"""Sealing a citizen's personal data with their own key, and what erasing the key leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from infra.personal_data import (
    DEMO_PERSONAL_DATA_KEY,
    MasterKey,
    PersonalDataSettings,
    UnreadableKey,
)
from infra.personal_data_keys import MemoryKeys
from infra.transient import ConfigurationError

MASTER = MasterKey(DEMO_PERSONAL_DATA_KEY)
AT = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def test_sealed_fields_open_only_with_the_citizens_own_key() -> None:
    karen, _ = MASTER.new_subject()
    ole, _ = MASTER.new_subject()
    sealed = karen.seal({"citizen_name": "Karen Jensen", "phone": "+4520304050"})
    assert "Karen" not in sealed.model_dump_json() and "20304050" not in sealed.ciphertext
    assert karen.open(sealed) == {"citizen_name": "Karen Jensen", "phone": "+4520304050"}
    with pytest.raises(ValueError, match="not for"):
        ole.open(sealed)
    forged = sealed.model_copy(update={"subject_id": ole.id})
    with pytest.raises(ValueError, match="damaged"):
        ole.open(forged)  # the ciphertext is bound to its subject


def test_the_same_fields_seal_differently_every_time() -> None:
    karen, _ = MASTER.new_subject()
    fields = {"note": "Mangler pasfoto"}
    assert karen.seal(fields).ciphertext != karen.seal(fields).ciphertext


def test_a_wrapped_key_opens_only_with_its_master_key() -> None:
    subject, wrapped = MASTER.new_subject()
    assert MASTER.unwrap(subject.id, wrapped) == subject
    other = MasterKey(MasterKey.generate())
    with pytest.raises(UnreadableKey, match="PERSONAL_DATA_KEY"):
        other.unwrap(subject.id, wrapped)
    with pytest.raises(UnreadableKey):
        MASTER.unwrap(uuid4(), wrapped)  # bound to its subject id too


def test_the_phone_lookup_is_keyed_per_master_key_and_municipality() -> None:
    lookup = MASTER.lookup("slagelse", "+4520304050")
    assert lookup == MASTER.lookup("slagelse", "+4520304050")
    assert lookup != MASTER.lookup("herning", "+4520304050")
    assert lookup != MasterKey(MasterKey.generate()).lookup("slagelse", "+4520304050")
    assert b"20304050" not in lookup


def test_a_master_key_that_is_not_32_base64_bytes_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="32 random bytes"):
        PersonalDataSettings(personal_data_key="c2hvcnQ=")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="not base64"):
        PersonalDataSettings(personal_data_key="not base64!")  # type: ignore[arg-type]


def test_a_citizen_keeps_one_key_until_erased_and_then_gets_a_new_one() -> None:
    keys = MemoryKeys(MASTER)
    first = keys.subject_for("slagelse", "+4520304050", AT)
    assert first.new  # so a booking need not look for earlier bookings of theirs
    again = keys.subject_for("slagelse", "+4520304050", AT + timedelta(days=1))
    assert again == first and not again.new
    assert keys.subject_for("herning", "+4520304050", AT) != first
    keys.erase(first.id, "requested", AT)
    assert keys.subject(first.id) is None
    assert keys.erased_at(first.id) == AT
    assert keys.find("slagelse", "+4520304050") is None
    renewed = keys.subject_for("slagelse", "+4520304050", AT)
    assert renewed.id != first.id and renewed.new


def test_retention_runs_from_the_latest_appointment() -> None:
    keys = MemoryKeys(MASTER)
    early = keys.subject_for("slagelse", "+4520304050", AT)
    late = keys.subject_for("slagelse", "+4520304051", AT + timedelta(days=10))
    keys.extend(early.id, AT + timedelta(days=5))
    keys.extend(early.id, AT - timedelta(days=5))  # never earlier
    due = keys.due(AT + timedelta(days=6))
    assert [d.subject_id for d in due] == [early.id]
    keys.request_erasure(late.id, "lone", AT)
    due = keys.due(AT)
    assert [(d.subject_id, d.requested_by) for d in due] == [(late.id, "lone")]


def test_without_a_master_key_nothing_is_sealed_or_opened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PERSONAL_DATA_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="PERSONAL_DATA_KEY is not set"):
        PersonalDataSettings(_env_file=None).personal_data_master_key()  # type: ignore[call-arg]
