"""Nobody gets onto the bus without credentials, and each user may publish only what it produces:
the embedded nats-server started with the project's own accounts config, attacked as a client."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.js.api import ConsumerConfig, StreamConfig

from infra.nats_accounts import BusAccounts, consumer_of, tools_context_path
from infra.nats_server import EmbeddedNats, free_port
from infra.replay import connected_to_nats
from infra.replay_stream import StreamPulls
from infra.runtime import embedded_nats
from infra.settings import ConnectionSettings
from infra.streams import EVENTS_STREAM, SMS_STREAM, deadletter_subject, ensure_streams
from services.reporting.entrypoints.events_cli import EventFilter, print_events
from tests.bus_clients import Client, Connect

A, B = "aarhus", "bornholm"
REFUSED = (nats.errors.Error, asyncio.TimeoutError)
EVENT = json.dumps({"forged": True}).encode()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> ConnectionSettings:
    return ConnectionSettings(
        var_dir=tmp_path_factory.mktemp("var"), nats_port=free_port(), municipalities=[A, B]
    )


@pytest.fixture(scope="module")
def deployed(settings: ConnectionSettings) -> Iterator[tuple[EmbeddedNats, BusAccounts]]:
    server, accounts = embedded_nats(settings)  # exactly what `up` starts
    server.start()
    yield server, accounts
    server.stop()


@pytest.fixture(scope="module")
def server(deployed: tuple[EmbeddedNats, BusAccounts]) -> EmbeddedNats:
    return deployed[0]


@pytest.fixture(scope="module")
def accounts(deployed: tuple[EmbeddedNats, BusAccounts]) -> BusAccounts:
    return deployed[1]


@pytest.fixture
async def relay(connect: Connect, accounts: BusAccounts) -> Client:
    client = await connect(accounts.platform)
    js = client.nc.jetstream()
    await ensure_streams(js)
    await js.purge_stream(EVENTS_STREAM)
    return client


async def events_stored(relay: Client) -> int:
    return (await relay.nc.jetstream().stream_info(EVENTS_STREAM)).state.messages


async def test_a_client_without_credentials_is_refused(server: EmbeddedNats) -> None:
    with pytest.raises(Exception, match=r"(?i)authorization"):
        await nats.connect(server.url, allow_reconnect=False, connect_timeout=2)


async def test_the_relay_alone_publishes_into_the_event_stream(
    connect: Connect, accounts: BusAccounts, relay: Client
) -> None:
    ack = await relay.nc.jetstream().publish(f"bs.{A}.booking.booked", EVENT)
    assert ack.stream == EVENTS_STREAM
    for credentials in (accounts.services, accounts.tools, accounts.municipality(A)):
        intruder = await connect(credentials)
        for subject in (f"bs.{A}.booking.booked", f"bs.{B}.municipality.registered"):
            await intruder.nc.publish(subject, EVENT)
        with pytest.raises(REFUSED):
            await intruder.nc.jetstream(timeout=0.5).publish(f"bs.{A}.schedule.opened", EVENT)
        await intruder.nc.flush()
        await asyncio.sleep(0.2)
        assert len(intruder.violations) >= 2, credentials.user
    assert await events_stored(relay) == 1


async def test_a_municipality_publishes_only_its_own_commands(
    connect: Connect, accounts: BusAccounts, relay: Client
) -> None:
    answered: list[str] = []

    async def answer(msg: nats.aio.msg.Msg) -> None:
        answered.append(msg.subject)
        await msg.respond(b"ok")

    await relay.nc.subscribe("bs.*.cmd.*", cb=answer)
    await relay.nc.flush()
    a = await connect(accounts.municipality(A))
    assert (await a.nc.request(f"bs.{A}.cmd.cancel", b"{}", timeout=2)).data == b"ok"
    with pytest.raises(REFUSED):
        await a.nc.request(f"bs.{B}.cmd.cancel", b"{}", timeout=0.5)
    assert answered == [f"bs.{A}.cmd.cancel"]


async def test_services_and_tools_cannot_delete_purge_or_change_a_stream(
    connect: Connect, accounts: BusAccounts, relay: Client
) -> None:
    await relay.nc.jetstream().publish(f"bs.{A}.booking.booked", EVENT)
    declared = await relay.nc.jetstream().stream_info(EVENTS_STREAM)
    for credentials in (accounts.services, accounts.tools):
        js = (await connect(credentials)).nc.jetstream(timeout=0.5)
        with pytest.raises(REFUSED):
            await js.purge_stream(EVENTS_STREAM)
        with pytest.raises(REFUSED):
            await js.delete_stream(SMS_STREAM)
        with pytest.raises(REFUSED):
            await js.delete_msg(EVENTS_STREAM, 1)
        with pytest.raises(REFUSED):  # an update is a purge too: max_msgs=1 drops history
            await js.update_stream(StreamConfig(name=EVENTS_STREAM, max_msgs=1))
    now = await relay.nc.jetstream().stream_info(EVENTS_STREAM)
    assert now.state.messages == 1 and now.config == declared.config
    assert {s.config.name for s in await relay.nc.jetstream().streams_info()} >= {SMS_STREAM}


async def test_services_publish_what_they_produce(
    connect: Connect, accounts: BusAccounts, relay: Client
) -> None:
    services = await connect(accounts.services)
    js = services.nc.jetstream(timeout=2)
    await ensure_streams(js)  # a service starting on a declared bus changes nothing
    assert (await js.publish(f"bs.{A}.sms.sent", EVENT)).stream == SMS_STREAM
    assert (await js.publish(deadletter_subject("reporting"), EVENT)).stream != EVENTS_STREAM
    assert services.violations == []


async def test_tools_cannot_take_over_a_durable_consumer(
    connect: Connect, accounts: BusAccounts, relay: Client
) -> None:
    js = relay.nc.jetstream()
    await js.add_consumer(
        EVENTS_STREAM, ConsumerConfig(durable_name=consumer_of(A), filter_subject=f"bs.{A}.>")
    )
    tools = (await connect(accounts.tools)).nc.jetstream(timeout=0.5)
    for forged in (
        ConsumerConfig(durable_name=consumer_of(A), filter_subject=f"bs.{B}.>"),
        ConsumerConfig(name=consumer_of(A), filter_subject=f"bs.{B}.>"),
        ConsumerConfig(durable_name="tools-own", filter_subject=">"),
    ):
        with pytest.raises(REFUSED):
            await tools.add_consumer(EVENTS_STREAM, forged)
    with pytest.raises(REFUSED):
        await tools.delete_consumer(EVENTS_STREAM, consumer_of(A))
    kept = await js.consumer_info(EVENTS_STREAM, consumer_of(A))
    assert kept.config.filter_subject == f"bs.{A}.>"


@pytest.mark.xfail(
    strict=True,
    reason="open: nats-server treats a legacy ephemeral create ($JS.API.CONSUMER.CREATE.<stream>)"
    " naming an existing durable in its body as an update, and subject permissions cannot tell"
    " the two apart; closing it needs the tools to read without creating consumers (direct get)",
)
async def test_tools_cannot_repoint_a_durable_by_naming_it_in_an_ephemeral_create(
    connect: Connect, accounts: BusAccounts, relay: Client
) -> None:
    js = relay.nc.jetstream()
    await js.add_consumer(
        EVENTS_STREAM, ConsumerConfig(durable_name=consumer_of(A), filter_subject=f"bs.{A}.>")
    )
    tools = await connect(accounts.tools)
    config = {"name": consumer_of(A), "filter_subject": f"bs.{B}.>", "ack_policy": "explicit"}
    request = json.dumps({"stream_name": EVENTS_STREAM, "config": config}).encode()
    await tools.nc.request(f"$JS.API.CONSUMER.CREATE.{EVENTS_STREAM}", request)
    kept = await js.consumer_info(EVENTS_STREAM, consumer_of(A))
    assert kept.config.filter_subject == f"bs.{A}.>"  # else A reads B's history through it


async def test_tools_find_their_credentials_and_read_the_history(
    settings: ConnectionSettings, relay: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    for subject in (f"bs.{A}.booking.booked", f"bs.{B}.booking.booked"):
        await relay.nc.jetstream().publish(subject, EVENT)
    path = tools_context_path(settings.var_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["user"] == "tools"

    # `replay`: its own consumer from the first message, pulled a batch at a time
    async with connected_to_nats(settings) as nc:
        js = nc.jetstream()
        consumer = await js.add_consumer(
            EVENTS_STREAM, ConsumerConfig(filter_subjects=["bs.*.booking.*"], ack_policy="none")
        )
        pulls = StreamPulls(js, consumer.name, batch=10)
        await pulls.start()
        fetched = await pulls.fetch(timeout=2)
        await pulls.stop()
    assert [m.subject for m in fetched] == [f"bs.{A}.booking.booked", f"bs.{B}.booking.booked"]

    # `events export`: an ordered consumer, as `events tail` and the live feed read
    lines: list[str] = []
    wanted = EventFilter(None, None, None, None)
    printed = await print_events(settings, wanted, follow=False, count=None, echo=lines.append)
    assert printed == 0 and lines == []  # the forged bodies are no events: skipped, not fatal
    assert capsys.readouterr().err.count("skipped stream sequence") == 2


def test_no_tool_setting_lets_anyone_in_anonymously(tmp_path: Path) -> None:
    settings = ConnectionSettings(var_dir=tmp_path, municipalities=[A])
    server, _ = embedded_nats(settings)
    config = server.write_config().read_text()
    assert "no_auth_user" not in config and "authorization" not in config
    assert not hasattr(settings, "nats_local_no_auth")
