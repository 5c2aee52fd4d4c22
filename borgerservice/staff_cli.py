"""`borgerservice staff`: issuing staff tokens, and the demo's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated

import typer

from infra.secrets import STAFF_TOKENS, DemoSecrets, staff_keys_of
from infra.settings import ConnectionSettings
from infra.staff_tokens import Role, StaffTokens, StaffTokenSettings, parse_ttl

staff_app = typer.Typer(help="Staff access to the API: signed tokens that expire.")

DEMO_TOKEN_TTL = timedelta(hours=12)


@staff_app.command()
def token(
    municipality: Annotated[str, typer.Option(help="The municipality the staff act for")],
    account: Annotated[str, typer.Option(help="The staff account, recorded on every event")],
    role: Annotated[Role, typer.Option(help="staff, admin or reporting")] = Role.STAFF,
    ttl: Annotated[str, typer.Option(help="Lifetime: 30m, 8h, 2d (at most 7d)")] = "8h",
) -> None:
    """Prints a staff token signed with the municipality's key from STAFF_TOKENS (or, without
    it, the key `up --demo` keeps in VAR_DIR)."""
    try:
        lifetime = parse_ttl(ttl)
        tokens = StaffTokens(StaffTokenSettings().staff_token_keys() or _demo_keys())
        typer.echo(tokens.issue(municipality, account, role, lifetime))
    except KeyError:
        typer.echo(f"STAFF_TOKENS has no key for {municipality!r}", err=True)
        raise typer.Exit(1) from None
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None


def _demo_keys() -> dict[str, str]:
    kept = DemoSecrets(ConnectionSettings().var_dir).existing()
    return staff_keys_of(kept.get(STAFF_TOKENS, "{}"))


def demo_staff_tokens(keys: Mapping[str, str]) -> dict[str, str]:
    """An admin token per municipality, for trying the staff routes."""
    tokens = StaffTokens(keys)
    return {m: tokens.issue(m, "demo", Role.ADMIN, DEMO_TOKEN_TTL) for m in keys}
