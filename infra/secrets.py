"""The secrets the services need: none has a default, and none is ever printed.

`serve` and `up` take them from the environment and refuse to start when one a service needs
is missing, a known public value, too short, or one a demo made: one line naming the setting
and how to make one (`borgerservice secret <SETTING>`). `up --demo` makes whichever is not
given once and keeps them in `VAR_DIR/secrets.json` (mode 0600), so the staff tokens and
manage links it printed stay valid across restarts; `serve` never reads that file.

What is printed is kept free of them as well: tracebacks show no local variables (structlog's
are rendered plain, `configure_output`), settings hold secrets as `SecretStr` and hide input
in validation errors, and URLs are printed without their password (`without_password`).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import structlog
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.personal_data import DEMO_PERSONAL_DATA_KEY, MasterKey
from infra.transient import ConfigurationError
from infra.var_dir import write_private

MIN_LENGTH = 32
DEMO_STORE = "secrets.json"
# Values published in this project's history or docs: they protect nothing.
KNOWN_PUBLIC = frozenset({"change-me-in-production", DEMO_PERSONAL_DATA_KEY})
STAFF_TOKENS = "STAFF_TOKENS"


def _random_text(_: Sequence[str]) -> str:
    return secrets.token_urlsafe(MIN_LENGTH)


def _staff_keys(municipalities: Sequence[str]) -> str:
    return json.dumps({m: secrets.token_urlsafe(MIN_LENGTH) for m in municipalities})


def _long_and_unpublished(value: str) -> str | None:
    if value in KNOWN_PUBLIC:
        return "is a known public default"
    if len(value) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    return None


def _master_key(value: str) -> str | None:
    if value in KNOWN_PUBLIC:
        return "is the public demo key"
    try:
        MasterKey(value)
    except ValueError:
        return "is not 32 random bytes, base64-encoded"
    return None


def staff_keys_of(value: str) -> dict[str, str]:
    """STAFF_TOKENS's municipality → key; ValueError (naming no key) if it is not that."""
    try:
        keys = json.loads(value)
    except ValueError:
        raise ValueError("is not a JSON object of municipality to key") from None
    if not isinstance(keys, dict) or not all(isinstance(k, str) for k in keys.values()):
        raise ValueError("is not a JSON object of municipality to key")
    return keys


def _staff_tokens(value: str) -> str | None:
    try:
        keys = staff_keys_of(value)
    except ValueError as error:
        return str(error)
    if not keys:
        return "has no municipality's key"
    weak = sorted(m for m, key in keys.items() if _long_and_unpublished(key))
    return f"has a short or public key for {', '.join(weak)}" if weak else None


@dataclass(frozen=True)
class Secret:
    name: str  # the setting, as an environment variable
    field: str  # the settings field the services read it into
    services: frozenset[str]  # the services that need it
    make: Callable[[Sequence[str]], str]  # a fresh value, for these municipalities
    problem: Callable[[str], str | None]  # what is wrong with a value, if anything

    def how_to_make(self) -> str:
        extra = " --municipality <m> ..." if self.name == STAFF_TOKENS else ""
        return f"`borgerservice secret {self.name}{extra}`"


_EVERY_API = frozenset({"booking", "notifications", "reporting"})
SECRETS = (
    Secret(
        "MANAGE_TOKEN_SECRET",
        "manage_token_secret",
        frozenset({"booking", "notifications"}),
        _random_text,
        _long_and_unpublished,
    ),
    Secret(
        "PERSONAL_DATA_KEY",
        "personal_data_key",
        frozenset({"booking", "notifications"}),
        lambda _: MasterKey.generate(),
        _master_key,
    ),
    Secret(STAFF_TOKENS, "staff_tokens", _EVERY_API, _staff_keys, _staff_tokens),
    # needed only with a real gateway (SMS_PROVIDER=http): without it receipts are refused
    Secret(
        "SMS_CALLBACK_SECRET",
        "sms_callback_secret",
        frozenset({"notifications"}),
        _random_text,
        _long_and_unpublished,
    ),
)
BY_NAME = {secret.name: secret for secret in SECRETS}


class GivenSecrets(BaseSettings):
    """The secrets as the environment gives them (and what decides which are needed)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    manage_token_secret: SecretStr | None = None
    personal_data_key: SecretStr | None = None
    staff_tokens: SecretStr | None = None  # the JSON text, checked here
    sms_callback_secret: SecretStr | None = None
    sms_provider: str = "outbox"

    def value(self, secret: Secret) -> str | None:
        given: SecretStr | None = getattr(self, secret.field)
        return given.get_secret_value() if given is not None and given.get_secret_value() else None

    def needs(self, secret: Secret, services: Collection[str]) -> bool:
        if secret.name == "SMS_CALLBACK_SECRET" and self.sms_provider != "http":
            return False
        return bool(secret.services & set(services))


@dataclass(frozen=True)
class Secrets:
    """The secrets a run uses, checked; `overrides` go into each service's settings."""

    values: Mapping[str, str]  # by setting name

    @property
    def overrides(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, value in self.values.items():
            secret = BY_NAME[name]
            found[secret.field] = staff_keys_of(value) if name == STAFF_TOKENS else value
        return found

    @property
    def staff_keys(self) -> dict[str, str]:
        return staff_keys_of(self.values[STAFF_TOKENS]) if STAFF_TOKENS in self.values else {}


class DemoSecrets:
    """`VAR_DIR/secrets.json`: a demo's secrets, made once, readable by its user only."""

    def __init__(self, var_dir: Path) -> None:
        self.path = var_dir / DEMO_STORE

    def existing(self) -> dict[str, str]:
        """The kept secrets by setting name (STAFF_TOKENS as its JSON text); none if no demo
        ran here."""
        try:
            kept = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError:
            raise ConfigurationError(
                f"{self.path} is damaged; remove it (the demo makes new secrets)"
            ) from None
        return {k: json.dumps(v) if isinstance(v, dict) else str(v) for k, v in kept.items()}

    def every_value(self) -> set[str]:
        """Every secret kept here, each staff key on its own too."""
        values = self.existing()
        staff = staff_keys_of(values.get(STAFF_TOKENS, "{}")).values()
        return {*values.values(), *staff}

    def kept(self, municipalities: Sequence[str]) -> dict[str, str]:
        """The kept secrets, made now for what is missing (a municipality's staff key too)."""
        values = self.existing()
        staff = staff_keys_of(values.get(STAFF_TOKENS, "{}"))
        missing = [m for m in municipalities if m not in staff]
        made = {s.name: s.make(municipalities) for s in SECRETS if s.name not in values}
        if missing:
            staff |= staff_keys_of(_staff_keys(missing))
            made[STAFF_TOKENS] = json.dumps(staff)
        if made:
            values |= made
            document = {k: staff_keys_of(v) if k == STAFF_TOKENS else v for k, v in values.items()}
            self._write(json.dumps(document, indent=2) + "\n")
            values = self.existing()  # what won, if another demo wrote it at the same moment
        os.chmod(self.path, 0o600)
        return values

    def _write(self, text: str) -> None:
        """Replaces the file at once: never half-written, never briefly readable by others."""
        temporary = self.path.with_name(f".{DEMO_STORE}.{os.getpid()}")
        write_private(temporary, text)
        os.replace(temporary, self.path)


def required(
    services: Collection[str],
    var_dir: Path,
    *,
    demo: bool = False,
    municipalities: Sequence[str] = (),
) -> Secrets:
    """The checked secrets of `services`: from the environment; under `demo` whatever is not
    given from the demo's store. `ConfigurationError` (one line, naming the settings and how
    to make them, never a value) if one is missing, public, short or (not a demo) a demo's."""
    given = GivenSecrets()
    demo_values = DemoSecrets(var_dir).kept(municipalities) if demo else {}
    made_by_a_demo = set() if demo else DemoSecrets(var_dir).every_value()
    values: dict[str, str] = {}
    problems = []
    for secret in SECRETS:
        value = given.value(secret)
        needed = given.needs(secret, services)
        if value is None and needed and secret.name in demo_values:
            value = demo_values[secret.name]
        if value is None:
            if needed:
                problems.append(f"{secret.name} is not set (make one: {secret.how_to_make()})")
            continue
        problem = secret.problem(value)
        parts = staff_keys_of(value).values() if secret.name == STAFF_TOKENS and not problem else ()
        if problem is None and made_by_a_demo & {value, *parts}:
            problem = f"is the demo's (from {DemoSecrets(var_dir).path})"
        if problem is not None:
            problems.append(f"{secret.name} {problem} (make one: {secret.how_to_make()})")
        values[secret.name] = value
    if problems:
        raise ConfigurationError("; ".join(problems))
    return Secrets(values)


def fresh(name: str, municipalities: Sequence[str]) -> str:
    """A new random value for the setting `name` (KeyError for another name)."""
    return BY_NAME[name].make(municipalities)


def without_password(url: str) -> str:
    """`url` for printing: a password in it replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def configure_output() -> None:
    """structlog renders exceptions as plain tracebacks: its rich ones print every local
    variable of every frame, settings and keys among them."""
    config = structlog.get_config()
    processors = list(config["processors"])
    if processors and isinstance(processors[-1], structlog.dev.ConsoleRenderer):
        processors[-1] = structlog.dev.ConsoleRenderer(
            exception_formatter=structlog.dev.plain_traceback
        )
        structlog.configure(processors=processors)
