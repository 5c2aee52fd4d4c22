"""NATS accounts: municipalities share the bus, not the data.

Every municipality is its own account, and NATS accounts share nothing unless one exports and
another imports, so a client of Slagelse subscribed to `>` can never see a Herning message.

- `PLATFORM` is the project's own services (booking, relay, notifications, reporting), which
  serve every municipality. It alone has JetStream: `BS_EVENTS` and `BS_DEADLETTER` live here,
  written by the relay and read by the platform's durable consumers. Its three users:
  * `platform`, the relay's: the process that runs the booking service and its relay (and
    `up`, which runs every service on one connection). It alone may publish into `BS_EVENTS`,
    and it owns the streams (declares, updates, purges them);
  * `services`, every other service's (notifications, reporting, web run alone): it may publish
    what they produce and nothing else: SMS events into `BS_SMS`, dead letters, acks, replies,
    the JetStream API of consumers and a stream's creation, never a stream's update, purge or
    deletion (an update is a purge: `max_msgs=1` drops the history);
  * `tools`, read-only (`replay`, `events tail|export`, an operator's `nats` CLI): it reads
    streams through consumers of its own (ephemeral, unacknowledged) and publishes nothing else.
- `<MUNICIPALITY>` (one per municipality) gets from the platform, and only for its own
  `bs.<m>.` subjects:
  * its live events (`bs.<m>.<aggregate>.*`, a stream export of the platform);
  * the command service (`bs.<m>.cmd.>` request-reply, served by the booking service);
  * read access to its own history: one durable pull consumer per municipality,
    `municipality-<m>` on `BS_EVENTS` filtered to `bs.<m>.>`, declared by the platform; only
    that consumer's next-message and ack subjects are exported to it, so fetch and ack work
    as usual (`js.pull_subscribe_bind("municipality-<m>", "BS_EVENTS")`). It cannot list
    streams, read other consumers or create its own (it has no JetStream API of its own: a
    municipality that needs another view asks the platform to declare another consumer).
  Its users may publish commands and those JetStream subjects only; they may subscribe to
  anything, because their account holds nothing but their own messages.
- `SHARED` (regional reporting, the SMS gateway) has no access of its own: it receives exactly
  the subjects each municipality chose to share (`shared_exports`, e.g. `{"slagelse":
  ["sms.*"]}`), nothing else, and never history. The platform exports them, because the events
  originate there and nats-server does not pass a stream an account imported on to a third.

Credentials are a user and a random password per account (`accounts.json`, mode 0600), not
nkeys: a password fits in the `NATS_URL` every service and tool already connects with
(`nats://platform:<password>@host:4222`), so no connect call changes, while nkeys need a seed
passed to each client separately. Passwords cross the wire, so a server beyond loopback must
use TLS; a production cluster is better run in operator (JWT) mode with the same accounts.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from infra.streams import EVENT_AGGREGATES, EVENTS_STREAM, deadletter_subject
from infra.var_dir import write_private

PLATFORM = "PLATFORM"
SHARED = "SHARED"
# Users of the PLATFORM account besides the relay's, keyed like accounts in `accounts.json`.
SERVICES = "SERVICES"
TOOLS = "TOOLS"
TOOLS_CONTEXT = "tools.json"  # beside accounts.json: the tools' credentials, a `nats` context
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SHARED_TAIL = re.compile(r"^(?P<aggregate>[a-z]+)\.(?:[a-z0-9_-]+|\*)$")


def account_of(municipality: str) -> str:
    return f"M_{municipality.upper().replace('-', '_')}"


def consumer_of(municipality: str) -> str:
    """The durable consumer through which a municipality reads its own history."""
    return f"municipality-{municipality}"


def _check_id(municipality: str) -> str:
    if not _ID.match(municipality):
        raise ValueError(f"municipality id {municipality!r} is not a lowercase subject token")
    return municipality


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str

    def url(self, server_url: str) -> str:
        """`server_url` with this user and password in it, the form every client accepts."""
        parts = urlsplit(server_url)
        host = parts.netloc.rsplit("@", 1)[-1]
        userinfo = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def without_credentials(url: str) -> str:
    """The URL for printing: user and password removed."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))


def _js_subjects(municipality: str) -> dict[str, str]:
    """The JetStream subjects of a municipality's consumer, and how the server answers. Only
    fetching and acking: the JetStream API proper (info, list, create) answers for the
    requesting account, which has no JetStream, so exporting it would give nothing."""
    consumer = f"{EVENTS_STREAM}.{consumer_of(municipality)}"
    return {
        f"$JS.API.CONSUMER.MSG.NEXT.{consumer}": "stream",  # a batch is several replies
        f"$JS.ACK.{consumer}.>": "singleton",
    }


def _event_subjects(municipality: str) -> list[str]:
    return [f"bs.{municipality}.{aggregate}.*" for aggregate in EVENT_AGGREGATES]


# What a stream reader asks JetStream: information, messages, its own ephemeral consumer
# (`CONSUMER.CREATE.<stream>` alone: the server refuses a durable name there, and a named
# consumer is created on a longer subject) and its next messages.
_READER_API = [
    "$JS.API.INFO",
    "$JS.API.STREAM.NAMES",
    "$JS.API.STREAM.LIST",
    "$JS.API.STREAM.INFO.*",
    "$JS.API.STREAM.MSG.GET.*",
    "$JS.API.DIRECT.GET.>",
    "$JS.API.CONSUMER.CREATE.*",
    "$JS.API.CONSUMER.NAMES.*",
    "$JS.API.CONSUMER.LIST.*",
    "$JS.API.CONSUMER.INFO.*.*",
    "$JS.API.CONSUMER.MSG.NEXT.*.*",
    "$JS.FC.>",  # an ordered consumer's flow control
]
# The services' own consumers and streams, and what they publish; never a change to a stream.
_SERVICES_PUBLISH = [
    "$JS.API.>",
    "$JS.ACK.>",
    "$JS.FC.>",
    "bs.*.sms.*",  # notifications' events, stored in BS_SMS
    deadletter_subject(">"),
]
_STREAM_CHANGES = [
    f"$JS.API.STREAM.{verb}.>"
    for verb in ("UPDATE", "DELETE", "PURGE", "MSG.DELETE", "RESTORE", "SNAPSHOT", "PEER.REMOVE")
] + ["$JS.API.STREAM.LEADER.STEPDOWN.>", "$JS.API.META.>", "$JS.API.ACCOUNT.>"]
# Commands carry citizens' data in the clear: only the booking service (the relay's user) hears.
_COMMANDS = "bs.*.cmd.>"


def _services_permissions() -> dict[str, Any]:
    return {
        "publish": {"allow": _SERVICES_PUBLISH, "deny": _STREAM_CHANGES},
        "subscribe": {"deny": [_COMMANDS]},
        "allow_responses": True,
    }


def _tools_permissions() -> dict[str, Any]:
    return {"publish": {"allow": _READER_API}, "subscribe": {"allow": ["_INBOX.>"]}}


@dataclass(frozen=True)
class BusAccounts:
    """The accounts of one deployment and their credentials; renders the server's config."""

    municipalities: tuple[str, ...]
    credentials: Mapping[str, Credentials]  # by account name
    shared_exports: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for municipality in self.municipalities:
            _check_id(municipality)
        for municipality, tails in self.shared_exports.items():
            if municipality not in self.municipalities:
                raise ValueError(f"shared export for unknown municipality {municipality!r}")
            for tail in tails:
                found = _SHARED_TAIL.match(tail)
                if found is None or found["aggregate"] not in EVENT_AGGREGATES:
                    raise ValueError(f"shared export {tail!r} is not `<aggregate>.<event|*>`")
        wanted = {PLATFORM, SERVICES, TOOLS, SHARED, *map(account_of, self.municipalities)}
        missing = wanted - set(self.credentials)
        if missing:
            raise ValueError(f"no credentials for {sorted(missing)}")

    @property
    def platform(self) -> Credentials:
        return self.credentials[PLATFORM]

    @property
    def services(self) -> Credentials:
        return self.credentials[SERVICES]

    @property
    def tools(self) -> Credentials:
        return self.credentials[TOOLS]

    @property
    def shared(self) -> Credentials:
        return self.credentials[SHARED]

    def municipality(self, municipality: str) -> Credentials:
        return self.credentials[account_of(municipality)]

    def accounts_config(self) -> str:
        """The `accounts` block of the nats-server configuration. It names no `no_auth_user`:
        a connection without credentials is refused."""
        accounts: dict[str, Any] = {
            PLATFORM: self._platform_account(),
            SHARED: {"users": [self._user(SHARED)], "imports": self._shared_imports()},
        }
        for municipality in self.municipalities:
            accounts[account_of(municipality)] = self._municipality_account(municipality)
        return f"accounts: {json.dumps(accounts, indent=2)}\n"

    def _user(self, account: str, permissions: dict[str, Any] | None = None) -> dict[str, Any]:
        given = self.credentials[account]
        user: dict[str, Any] = {"user": given.user, "password": given.password}
        if permissions is not None:
            user["permissions"] = permissions
        return user

    def _platform_account(self) -> dict[str, Any]:
        exports: list[dict[str, Any]] = []
        for municipality in self.municipalities:
            to = [account_of(municipality)]
            exports += [{"stream": s, "accounts": to} for s in _event_subjects(municipality)]
            exports.append({"service": f"bs.{municipality}.cmd.>", "accounts": to})
            exports += [
                {"service": subject, "response_type": response, "accounts": to}
                for subject, response in _js_subjects(municipality).items()
            ]
            exports += [
                {"stream": f"bs.{municipality}.{tail}", "accounts": [SHARED]}
                for tail in self.shared_exports.get(municipality, ())
            ]
        users = [
            self._user(PLATFORM),
            self._user(SERVICES, _services_permissions()),
            self._user(TOOLS, _tools_permissions()),
        ]
        return {"jetstream": "enabled", "users": users, "exports": exports}

    def _municipality_account(self, municipality: str) -> dict[str, Any]:
        js = list(_js_subjects(municipality))
        imports: list[dict[str, Any]] = [
            {"stream": {"account": PLATFORM, "subject": s}} for s in _event_subjects(municipality)
        ]
        imports += [
            {"service": {"account": PLATFORM, "subject": s}}
            for s in [f"bs.{municipality}.cmd.>", *js]
        ]
        # Commands and its own consumer only: it cannot inject events, even into its account.
        permissions = {"publish": {"allow": [f"bs.{municipality}.cmd.>", *js]}}
        account = account_of(municipality)
        return {"users": [self._user(account, permissions)], "imports": imports}

    def _shared_imports(self) -> list[dict[str, Any]]:
        return [
            {"stream": {"account": PLATFORM, "subject": f"bs.{m}.{tail}"}}
            for m, tails in self.shared_exports.items()
            for tail in tails
        ]


def load_or_create(
    path: Path,
    municipalities: Iterable[str],
    shared_exports: Mapping[str, Iterable[str]] | None = None,
) -> BusAccounts:
    """The accounts for `municipalities`, with the passwords kept in `path` (created with
    mode 0600); a municipality seen for the first time gets a new random password, existing
    ones keep theirs so connected clients stay valid across restarts."""
    ids = tuple(dict.fromkeys(_check_id(m) for m in municipalities))
    stored: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
    wanted = {PLATFORM: "platform", SERVICES: "services", TOOLS: "tools", SHARED: "shared"}
    wanted |= {account_of(m): m for m in ids}
    for account, user in wanted.items():
        stored.setdefault(account, {"user": user, "password": secrets.token_urlsafe(32)})
    write_private(path, json.dumps(stored, indent=2))
    credentials = {account: Credentials(**stored[account]) for account in wanted}
    exports = {m: tuple(tails) for m, tails in (shared_exports or {}).items()}
    return BusAccounts(ids, credentials, exports)


def tools_context_path(var_dir: Path) -> Path:
    return var_dir / "nats" / TOOLS_CONTEXT


def write_tools_context(var_dir: Path, accounts: BusAccounts, server_url: str) -> Path:
    """The tools' credentials as a `nats` CLI context (`nats --context <path> stream ls`),
    which `replay` and `events` read when `NATS_URL` is not set."""
    path = tools_context_path(var_dir)
    context = {
        "description": "borgerservice: read-only tools user of the embedded nats-server",
        "url": without_credentials(server_url),
        "user": accounts.tools.user,
        "password": accounts.tools.password,
    }
    write_private(path, json.dumps(context, indent=2))
    return path


def tools_url(var_dir: Path) -> str | None:
    """The tools' URL with their credentials, from the context `up` wrote; None if none."""
    try:
        context = json.loads(tools_context_path(var_dir).read_text())
        return Credentials(context["user"], context["password"]).url(context["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


async def ensure_municipality_consumers(
    js: JetStreamContext, municipalities: Iterable[str]
) -> None:
    """Declares each municipality's durable consumer of its own events; idempotent."""
    for municipality in municipalities:
        await js.add_consumer(
            EVENTS_STREAM,
            ConsumerConfig(
                durable_name=consumer_of(municipality),
                filter_subject=f"bs.{municipality}.>",
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=30,
                max_ack_pending=1_000,
            ),
        )
