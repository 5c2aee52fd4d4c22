"""Browser tests: Debian's Chromium driven by Playwright against `borgerservice up --demo`
in its own process, as a user runs it. Skipped, with the reason, where Chromium is missing."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from infra.database import drop_database, ensure_database
from infra.nats_server import free_port
from infra.staff_tokens import Role, StaffTokens
from tests.booking_world import STAFF_KEYS
from tests.conftest import BASE_DATABASE_URL
from tests.processes import BIN

CHROMIUM = Path("/usr/bin/chromium")
# Headless as root on a closed network: without the background-networking flags Chromium
# keeps trying to reach Google's hosts.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Tests never change tracked files: the pictures go to a temporary folder unless
# `SCREENSHOTS_DIR=docs/screenshots` asks for the README's pictures to be refreshed.
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOTS_DIR")
    or Path(os.environ.get("TMPDIR", "/tmp")) / f"borgerservice-screenshots-{os.getpid()}"
)
MUNICIPALITY = "slagelse"
MANAGE_TOKEN_SECRET = "manage-token-secret-of-the-browser-tests"
SMS_CALLBACK_SECRET = "sms-gateway-secret-of-the-browser-tests"


def _why_no_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[dev]'"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _why_no_browser()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what or check}")
        time.sleep(0.2)


@dataclass
class Demo:
    """A running `borgerservice up --demo` and what it printed."""

    base: str
    env: dict[str, str]
    output: list[str] = field(default_factory=list)
    staff_token: str = ""

    @property
    def api(self) -> str:
        return f"{self.base}/api/v1/municipalities/{MUNICIPALITY}"

    def free_times(self, service: str, site: str, **params: str) -> list[dict[str, Any]]:
        found = httpx.get(
            f"{self.api}/availability", params={"service": service, "site": site, **params}
        )
        return list(found.json()) if found.status_code == 200 else []

    def book(self, service: str, site: str, starts_at: str, phone: str) -> dict[str, Any]:
        booked = httpx.post(
            f"{self.api}/bookings",
            json={
                "site": site,
                "service": service,
                "starts_at": starts_at,
                "citizen_name": "Karen Jensen",
                "phone": phone,
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert booked.status_code == 201, booked.text
        return dict(booked.json())

    def get(self, path: str, **params: str) -> dict[str, Any]:
        """A JSON API of the municipality, e.g. `get("/key-figures")`, with the staff token
        the demo printed; fails unless 200."""
        found = httpx.get(
            f"{self.api}{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.staff_token}"},
        )
        assert found.status_code == 200, found.text
        return dict(found.json())

    def token(self, role: Role, account: str = "stine") -> str:
        """A staff token of the municipality in `role`, signed with the demo's keys."""
        return StaffTokens(STAFF_KEYS).issue(MUNICIPALITY, account, role, timedelta(hours=1))

    def staff_step(self, booking_id: str, step: str) -> None:
        """As staff: `check-in`, `start`, `complete`, ... the booking."""
        done = httpx.post(
            f"{self.api}/bookings/{booking_id}/{step}",
            headers={"Authorization": f"Bearer {self.staff_token}"},
        )
        assert done.status_code == 200, done.text

    def delivery_receipt(self, message_key: str) -> None:
        """The SMS gateway reports the message delivered (the outbox's id is its key)."""
        receipt = httpx.post(
            f"{self.base}/api/v1/sms/receipts",
            json={"id": message_key, "status": "delivered"},
            headers={"Authorization": f"Bearer {SMS_CALLBACK_SECRET}"},
        )
        assert receipt.status_code == 200 and receipt.json()["recorded"], receipt.text

    def outbox(self, phone_e164: str) -> list[dict[str, Any]]:
        printed = subprocess.run(
            [str(BIN), "sms", "outbox", "--municipality", MUNICIPALITY, "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return [m for m in json.loads(printed) if m.get("phone") == phone_e164]

    def staff_login_token(self) -> str:
        """The staff token the demo printed for the municipality, whatever its form: every
        token-like word on the lines about staff is tried against the staff API."""
        lines = [line for line in self.output if "Bearer" in line or "staff" in line.lower()]
        words = {
            w.replace("<municipality>", MUNICIPALITY).strip("'\"")
            for line in lines
            if MUNICIPALITY in line or "<municipality>" in line
            for w in line.split()
        }
        today = time.strftime("%Y-%m-%d")
        for word in sorted(words, key=len, reverse=True):
            if len(word) < 8 or not re.fullmatch(r"[\w.\-~+/=<>]+", word):
                continue
            tried = httpx.get(
                f"{self.api}/sites/korsoer/days/{today}/bookings",
                headers={"Authorization": f"Bearer {word}"},
            )
            if tried.status_code == 200 or (
                tried.status_code == 404 and tried.json().get("detail") not in ("Not Found", None)
            ):  # accepted; the site may be closed today
                return word
        raise AssertionError("the demo printed no staff token that works:\n" + "\n".join(lines))


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    parts = urlsplit(BASE_DATABASE_URL)
    database_url = urlunsplit(parts._replace(path=f"/bs_browser_{uuid.uuid4().hex[:10]}"))
    asyncio.run(ensure_database(database_url))
    http_port, nats_port = free_port(), free_port()
    var_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"bs-browser-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_PORT": str(nats_port),
        "VAR_DIR": str(var_dir),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{http_port}",
        "MANAGE_TOKEN_SECRET": MANAGE_TOKEN_SECRET,
        "SMS_CALLBACK_SECRET": SMS_CALLBACK_SECRET,  # the gateway's delivery receipts
        "STAFF_TOKENS": json.dumps(STAFF_KEYS),  # so that tests can issue tokens of any role
    }
    env.pop("NATS_URL", None)
    process = subprocess.Popen(
        [str(BIN), "up", "--demo", "--port", str(http_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    running = Demo(base=f"http://127.0.0.1:{http_port}", env=env)
    assert process.stdout is not None
    reader = threading.Thread(
        target=lambda: running.output.extend(iter(process.stdout.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    try:
        wait_for(
            lambda: (
                any("Stop with Ctrl-C." in line for line in running.output)
                or process.poll() is not None
            ),
            timeout=90,
            what="borgerservice up --demo to start",
        )
        if process.poll() is not None:
            pytest.fail("borgerservice up did not start:\n" + "".join(running.output))
        running.staff_token = running.staff_login_token()
        yield running
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in a terminal signals the whole group
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        reader.join(timeout=5)
        asyncio.run(drop_database(database_url))
    assert process.returncode == 0, "".join(running.output[-40:])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Per module: Playwright's synchronous API runs an event loop of its own in this
    thread, which must be gone before asynchronous tests elsewhere run theirs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    """A citizen's phone: small screen, touch."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale="da-DK",
        timezone_id="Europe/Copenhagen",
    )
    yield from _watched(context)


@pytest.fixture
def desk_page(browser: Any) -> Iterator[Any]:
    """A staff member's desk screen."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="da-DK", timezone_id="Europe/Copenhagen"
    )
    yield from _watched(context)


# Reports each Content-Security-Policy violation in any document of the page (the dashboard's
# framed report too) to the test; the policy does not apply to scripts the browser tool adds.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => window.reportPolicyViolation(
  `${e.effectiveDirective} refused ${e.blockedURI || "inline"} in ${e.documentURI}`));
"""


def policy_violations(page: Any) -> list[str]:
    """From now on, every violation of the pages' Content-Security-Policy on `page`: the
    browser's securitypolicyviolation events and its "Refused to ..." console messages."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    # a lambda: Playwright cannot expose a builtin method such as seen.append
    page.expose_function("reportPolicyViolation", lambda text: seen.append(text))
    page.add_init_script(_REPORT_VIOLATIONS)
    return seen


def _watched(context: Any) -> Iterator[Any]:
    """A page of `context`, closed after the test; every browser test on a phone or desk
    fails on a violation of the pages' policy."""
    page = context.new_page()
    violations = policy_violations(page)
    yield page
    context.close()
    assert not violations, f"Content-Security-Policy violations: {violations}"


def screenshot(page: Any, name: str) -> None:
    """Saves the whole page as <name>.png in `SCREENSHOTS` (docs/screenshots on request)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def staff_login(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.base}/staff/{MUNICIPALITY}/login")
    page.get_by_label("Dit brugernavn").fill("mette")
    page.get_by_label("Adgangsnøgle").fill(demo.staff_token)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(re.compile(r"/staff/slagelse/sites/"))
