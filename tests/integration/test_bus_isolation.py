"""Municipalities share the bus, not the data: a real nats-server with the generated accounts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import nats
import pytest
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig
from nats.js.errors import Error as JetStreamError

from infra.nats_accounts import (
    BusAccounts,
    Credentials,
    consumer_of,
    ensure_municipality_consumers,
    load_or_create,
)
from infra.nats_server import EmbeddedNats
from infra.streams import EVENTS_STREAM, ensure_streams
from tests.bus_clients import Client, Connect
from tests.support import eventually

A, B = "aarhus", "bornholm"
QUIET = 0.3  # how long "receives nothing" is watched


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> BusAccounts:
    folder = tmp_path_factory.mktemp("accounts")
    return load_or_create(folder / "accounts.json", [A, B], {A: ["sms.*"]})


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, accounts: BusAccounts
) -> Iterator[EmbeddedNats]:
    embedded = EmbeddedNats(
        tmp_path_factory.mktemp("nats-accounts"), accounts_config=accounts.accounts_config()
    )
    embedded.start()
    yield embedded
    embedded.stop()


@pytest.fixture
async def platform(connect: Connect, accounts: BusAccounts) -> Client:
    client = await connect(accounts.platform)
    js = client.nc.jetstream()
    await ensure_streams(js)
    await js.purge_stream(EVENTS_STREAM)
    await ensure_municipality_consumers(js, [A, B])
    return client


async def publish_events(platform: Client) -> None:
    """What the relay does: every event onto the platform's stream."""
    js = platform.nc.jetstream()
    for subject in (
        f"bs.{A}.booking.booked",
        f"bs.{A}.sms.sent",
        f"bs.{B}.booking.booked",
        f"bs.{B}.sms.sent",
    ):
        await js.publish(subject, b"{}")


async def test_a_client_of_one_municipality_sees_nothing_of_another(
    connect: Connect, accounts: BusAccounts, platform: Client
) -> None:
    a, b = await connect(accounts.municipality(A)), await connect(accounts.municipality(B))
    await a.watch(">")
    await b.nc.publish(f"bs.{B}.cmd.book", b"{}")  # B's own traffic
    own = {f"bs.{A}.booking.booked", f"bs.{A}.sms.sent"}
    # Published again until A's own arrive: A's interest reaches the platform's account a
    # moment after A subscribed (the suite once lost the first round on a loaded machine).
    for _ in range(50):
        await publish_events(platform)
        await asyncio.sleep(0.2)
        if own <= set(a.received):
            break
    await asyncio.sleep(QUIET)  # and nothing else comes after them
    assert set(a.received) == own


async def test_a_municipality_cannot_publish_on_anothers_subjects(
    connect: Connect, accounts: BusAccounts, platform: Client
) -> None:
    a, b = await connect(accounts.municipality(A)), await connect(accounts.municipality(B))
    await b.watch(">")
    await platform.watch(f"bs.{B}.>")
    for subject in (f"bs.{B}.cmd.book", f"bs.{B}.booking.booked", f"bs.{A}.booking.booked"):
        await a.nc.publish(subject, b"forged")  # not even its own events: only the relay's
    await a.nc.flush()
    await asyncio.sleep(QUIET)
    assert b.received == [] and platform.received == []
    assert len([e for e in a.errors if "permissions violation" in str(e).lower()]) == 3
    stored = await platform.nc.jetstream().stream_info(EVENTS_STREAM)
    assert stored.state.messages == 0


async def test_a_municipalitys_commands_reach_the_platform_and_only_its_own(
    connect: Connect, accounts: BusAccounts, platform: Client
) -> None:
    async def answer(msg: Msg) -> None:
        await msg.respond(msg.subject.encode())

    await platform.nc.subscribe("bs.*.cmd.*", cb=answer)
    a = await connect(accounts.municipality(A))
    reply = await a.nc.request(f"bs.{A}.cmd.book", b"{}", timeout=2)
    assert reply.data == f"bs.{A}.cmd.book".encode()
    with pytest.raises(nats.errors.Error):
        await a.nc.request(f"bs.{B}.cmd.book", b"{}", timeout=0.5)


async def test_a_municipality_reads_its_own_history_through_its_consumer(
    connect: Connect, accounts: BusAccounts, platform: Client
) -> None:
    await publish_events(platform)
    a = await connect(accounts.municipality(A))
    history = await a.nc.jetstream().pull_subscribe_bind(consumer_of(A), EVENTS_STREAM)
    messages = await history.fetch(10, timeout=2)
    # BS_EVENTS is the relay's alone; `sms.*` history lives in BS_SMS (infra/streams.py)
    assert sorted(m.subject for m in messages) == [f"bs.{A}.booking.booked"]
    for message in messages:
        await message.ack()
    await a.nc.flush()

    async def acknowledged() -> bool:  # acks cross the account import asynchronously
        info = await platform.nc.jetstream().consumer_info(EVENTS_STREAM, consumer_of(A))
        return info.num_ack_pending == 0

    await eventually(acknowledged, timeout=5)  # the acks reached the platform's JetStream


async def test_a_municipality_cannot_list_read_or_create_consumers_elsewhere(
    connect: Connect, accounts: BusAccounts, platform: Client
) -> None:
    await publish_events(platform)
    a = await connect(accounts.municipality(A))
    js = a.nc.jetstream(timeout=0.5)
    refused = (JetStreamError, nats.errors.Error, asyncio.TimeoutError)
    with pytest.raises(refused):
        await js.streams_info()
    with pytest.raises(refused):
        await js.consumers_info(EVENTS_STREAM)
    with pytest.raises(refused):
        await js.stream_info(EVENTS_STREAM)
    with pytest.raises(refused):
        await js.add_consumer(
            EVENTS_STREAM, ConsumerConfig(durable_name="mine", filter_subject=f"bs.{B}.>")
        )
    with pytest.raises(refused):
        await js.get_msg(EVENTS_STREAM, 1, direct=True)
    with pytest.raises(refused):
        foreign = await js.pull_subscribe_bind(consumer_of(B), EVENTS_STREAM)
        await foreign.fetch(1, timeout=0.5)
    names = await platform.nc.jetstream().consumers_info(EVENTS_STREAM)
    assert "mine" not in {c.name for c in names}
    untouched = await platform.nc.jetstream().consumer_info(EVENTS_STREAM, consumer_of(B))
    assert untouched.delivered.consumer_seq == 0 and untouched.num_pending == 1  # B's, unread


async def test_the_shared_account_receives_only_what_is_exported_to_it(
    connect: Connect, accounts: BusAccounts, platform: Client
) -> None:
    shared = await connect(accounts.shared)
    await shared.watch(">")
    await publish_events(platform)
    await asyncio.sleep(QUIET)
    assert shared.received == [f"bs.{A}.sms.sent"]  # A shares its SMS; B shares nothing
    with pytest.raises((JetStreamError, nats.errors.Error, asyncio.TimeoutError)):
        await shared.nc.jetstream(timeout=0.5).streams_info()


async def test_wrong_credentials_are_refused(server: EmbeddedNats, accounts: BusAccounts) -> None:
    forged = Credentials(accounts.municipality(A).user, "guessed")
    with pytest.raises(Exception, match=r"(?i)authorization"):
        await nats.connect(forged.url(server.url), allow_reconnect=False, connect_timeout=2)
