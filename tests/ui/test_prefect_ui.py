"""The Prefect UI of `poller demo`, used as a person uses it, in headless Chromium.

One `poller demo` process (its own Prefect server, simulator, receiver and runner) serves both
tests: the first browses the deployment to a scheduled poll that completed and its `poll-demo`
table artifact, the second starts a poll with the deployment's Run button and waits for it to
complete. Chromium and its driver come from Debian (`chromium`, `chromium-driver`).
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.slow

T = TypeVar("T")

INSTALL_HINT = (
    "this test drives Debian's headless Chromium: install it with "
    "`sudo apt-get install -y chromium chromium-driver` (`.ci/run` does it on CI)"
)
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    # Without these three, Chromium keeps calling home, and there is no network here.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)
DEMO_START_TIMEOUT = 240  # the Prefect server, then the first scheduled poll
DEMO_STOP_TIMEOUT = 60
PAGE_TIMEOUT = 90  # the Vue app is slow to load the first time
QUICK_RUN_ATTEMPTS = 5
RUN_TIMEOUT = 180  # a poll takes seconds; the runner polls for work every second

UI_LINE = re.compile(r"Prefect UI: (http://127\.0\.0\.1:\d+) \(deployment poll-connection/demo\)")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TABLE_TITLE = "Received by the StockMaster-like receiver"
RUN_TITLE = "Flow Run: poll demo "  # the page title: "Flow Run: <name> • Prefect Server"
RUN_ID = re.compile(r"/runs/flow-run/([0-9a-f-]{36})")
DEPLOYMENT_ID = re.compile(r"/deployments/deployment/([0-9a-f-]{36})")

# Elements found by what a person sees (their text) or by stable attributes.
DEPLOYMENT_LINK = "//tr[.//a[normalize-space()='poll-connection']]//a[normalize-space()='demo']"
COMPLETED_RUN_LINK = (
    "//*[contains(@class, 'flow-run-list-item')]"
    "[.//*[contains(@class, 'state-badge')][normalize-space()='Completed']]"
    "//a[contains(@href, '/runs/flow-run/')]"
)
COMPLETED_BADGE = "//*[contains(@class, 'state-badge')][normalize-space()='Completed']"
ARTIFACTS_TAB = "//li[@role='tab' or contains(@class, 'p-tab')][normalize-space()='Artifacts']"
POLL_DEMO_CARD = (
    "//*[@role='tabpanel']//a[contains(@href, '/artifacts/artifact/')]"
    "[.//*[normalize-space()='poll-demo']]"
)
COUNTS_TABLE = (
    "//table[.//*[normalize-space()='orders scanned']][.//*[normalize-space()='Odoo calls']]"
)
RUN_BUTTON = "//button[normalize-space()='Run']"
QUICK_RUN = "//button[normalize-space()='Quick run']"
DIALOG_RUN_BUTTON = "//*[@role='dialog']//button[normalize-space()='Run']"
VIEW_RUN = "//button[normalize-space()='View run']"
CREATED_TOAST = f"{VIEW_RUN}/ancestor::*[contains(normalize-space(), 'scheduled')][1]"
API_ERROR_TOAST = "//*[normalize-space()='Oops. Something went wrong.']/.."
FLAKY_DOM = (
    NoSuchElementException,
    StaleElementReferenceException,
    ElementClickInterceptedException,
    ElementNotInteractableException,
)


def _find(name: str) -> str | None:
    """On PATH, or where Debian's packages put it."""
    debian = Path("/usr/bin") / name
    return shutil.which(name) or (str(debian) if debian.is_file() else None)


@dataclass(frozen=True)
class Chromium:
    browser: str | None
    driver: str | None

    def require(self) -> None:
        missing = [
            name
            for name, path in (("chromium", self.browser), ("chromedriver", self.driver))
            if path is None
        ]
        if missing:
            pytest.fail(f"{' and '.join(missing)} not found: {INSTALL_HINT}", pytrace=False)


@pytest.fixture(scope="module")
def chromium() -> Chromium:
    return Chromium(browser=_find("chromium"), driver=_find("chromedriver"))


def _ui(chromium: Chromium, request: pytest.FixtureRequest, tmp_path: Path) -> Ui:
    """Checked in the test itself, so that a machine without Chromium fails the test (a
    failing fixture would be reported as an error) before the demo is started."""
    chromium.require()
    browser, demo = request.getfixturevalue("browser"), request.getfixturevalue("demo")
    return Ui(driver=browser, demo=demo, shots=tmp_path)


# --- the demo process ---------------------------------------------------------------------


@dataclass
class Demo:
    process: subprocess.Popen[str]
    server_log: Path  # where deployments/local_server.py sends the Prefect server's output
    lines: list[str] = field(default_factory=list)
    ui: str = ""

    @property
    def api(self) -> str:
        return f"{self.ui}/api"

    def output(self, last: int = 60) -> str:
        return "\n".join(self.lines[-last:])

    def diagnosis(self) -> str:
        """What to read when the UI does not show what it should."""
        try:
            health = str(httpx.get(f"{self.api}/health", timeout=10).status_code)
        except httpx.HTTPError as error:
            health = f"{type(error).__name__}: {error}"
        servers = [
            pid
            for pid in _descendants(self.process.pid)
            if b"prefect\0server\0start" in _cmdline(pid)
        ]
        try:
            log = "\n".join(self.server_log.read_text(errors="replace").splitlines()[-40:])
        except OSError as error:
            log = str(error)
        return (
            f"GET {self.api}/health: {health}; `poller demo` (pid {self.process.pid}) is "
            f"{'running' if self.process.poll() is None else 'gone'}, its Prefect server "
            f"process: {servers or 'gone'}.\n"
            f"--- the Prefect server's log ({self.server_log}), last lines:\n{log}\n"
            f"--- `poller demo`, last lines:\n{self.output(30)}"
        )


def _pump(demo: Demo, arrived: queue.Queue[str | None]) -> None:
    assert demo.process.stdout is not None
    for raw in demo.process.stdout:
        line = ANSI.sub("", raw.rstrip("\n"))
        demo.lines.append(line)
        arrived.put(line)
    arrived.put(None)


def _wait_until_polled_once(demo: Demo, arrived: queue.Queue[str | None]) -> None:
    """Until the UI address is printed and the first poll's received-orders table is."""
    deadline = time.monotonic() + DEMO_START_TIMEOUT
    in_table = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(
                f"`poller demo` printed no received-orders table within {DEMO_START_TIMEOUT}s:\n"
                + demo.output()
            )
        try:
            line = arrived.get(timeout=left)
        except queue.Empty:
            continue
        if line is None:
            demo.process.wait(timeout=10)
            pytest.fail(
                f"`poller demo` exited with code {demo.process.returncode} before its first "
                "poll:\n" + demo.output()
            )
        if match := UI_LINE.search(line):
            demo.ui = match.group(1)
        in_table = in_table or TABLE_TITLE in line
        if demo.ui and in_table and line.lstrip().startswith("└"):
            return


def _descendants(pid: int) -> list[int]:
    """Every process under `pid` (the demo's Prefect server runs in its own session)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _stop(demo: Demo) -> str | None:
    """SIGINT as Ctrl-C does; SIGKILL to the whole tree if it does not stop. Why it failed."""
    process = demo.process
    if process.poll() is not None:
        return f"`poller demo` had already exited with code {process.returncode}"
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=DEMO_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        for pid in [*_descendants(process.pid), process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)
        return f"`poller demo` did not stop within {DEMO_STOP_TIMEOUT}s of SIGINT: killed"
    return None if code == 0 else f"`poller demo` stopped with code {code} after SIGINT"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`poller demo --interval 20` in a fresh process, as the README runs it, until SIGINT."""
    workdir = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "POLLER_"))}
    env.update(
        PREFECT_HOME=str(workdir / "prefect-home"),
        PYTHONUNBUFFERED="1",  # lines as they are printed, not when a buffer fills
        COLUMNS="200",  # rich wraps at 80 columns when it does not write to a terminal
        NO_COLOR="1",
    )
    command = [sys.executable, "-m", "poller.cli", "demo", "--interval", "20"]
    data = workdir / "data"
    process = subprocess.Popen(
        [*command, "--data-dir", str(data)],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    running = Demo(process=process, server_log=data / "prefect" / "server.log")
    arrived: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(running, arrived), daemon=True).start()
    try:
        _wait_until_polled_once(running, arrived)
        print(f"\n`poller demo` is up: Prefect UI at {running.ui}")
        yield running
    finally:
        problem = _stop(running)
    if problem:
        pytest.fail(f"{problem}:\n{running.output()}")


# --- the browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(chromium: Chromium, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path_factory.mktemp("chrome"))
    options = webdriver.ChromeOptions()
    assert chromium.browser and chromium.driver, INSTALL_HINT
    options.binary_location = chromium.browser
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    log = Path(profile).parent / "chromedriver.log"
    service = Service(executable_path=chromium.driver, log_output=str(log))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


def _visible(xpath: str) -> Callable[[WebDriver], WebElement | None]:
    def find(driver: WebDriver) -> WebElement | None:
        for element in driver.find_elements(By.XPATH, xpath):
            if element.is_displayed():
                return element
        return None

    return find


def _flow_runs(demo: Demo, **filters: Any) -> list[dict[str, Any]]:
    for _ in range(10):
        response = httpx.post(f"{demo.api}/flow_runs/filter", json=filters, timeout=30)
        if response.status_code != 503:  # SQLite busy: Prefect's own client retries too
            break
        time.sleep(1)
    response.raise_for_status()
    return response.json()


@dataclass
class Ui:
    """The browser on the demo's Prefect UI, with explicit waits that explain their failures."""

    driver: WebDriver
    demo: Demo
    shots: Path

    def wait(
        self,
        what: str,
        condition: Callable[[WebDriver], T | bool | None],
        timeout: float = PAGE_TIMEOUT,
        refresh_every: float | None = None,
    ) -> T:
        """`condition` until it is truthy; reload now and then for pages that do not update."""
        last_refresh = time.monotonic()

        def attempt(driver: WebDriver) -> Any:
            nonlocal last_refresh
            result = condition(driver)
            if not result and refresh_every and time.monotonic() - last_refresh > refresh_every:
                last_refresh = time.monotonic()
                driver.refresh()
            return result

        try:
            return WebDriverWait(
                self.driver, timeout, poll_frequency=0.5, ignored_exceptions=FLAKY_DOM
            ).until(attempt)
        except TimeoutException:
            self.shots.mkdir(parents=True, exist_ok=True)
            shot = self.shots / f"failure-{time.strftime('%H%M%S')}.png"
            self.driver.save_screenshot(str(shot))
            pytest.fail(
                f"the Prefect UI did not show {what} within {timeout:.0f}s at "
                f"{self.driver.current_url} (screenshot: {shot}). Page text:\n"
                f"{self.page_text()[:2000]}\n{self.demo.diagnosis()}"
            )

    def page_text(self) -> str:
        try:
            return self.driver.find_element(By.TAG_NAME, "body").text
        except NoSuchElementException:
            return ""

    def click(self, what: str, xpath: str, **wait: Any) -> None:
        """Click the first visible match that takes the click (toasts are rendered twice,
        one over the other: only the top one can be clicked)."""

        def click(driver: WebDriver) -> bool:
            for element in driver.find_elements(By.XPATH, xpath):
                if element.is_displayed():
                    try:
                        element.click()
                    except ElementClickInterceptedException:
                        continue
                    return True
            return False

        self.wait(what, click, **wait)

    def open_demo_deployment(self) -> str:
        """From the Deployments page, open deployment `demo` of flow `poll-connection`."""
        self.driver.get(f"{self.demo.ui}/deployments")
        self.click("deployment `demo` of flow `poll-connection`", DEPLOYMENT_LINK)
        match = self.wait("the deployment page", lambda d: DEPLOYMENT_ID.search(d.current_url))
        self.wait("the deployment's Run button", _visible(RUN_BUTTON))
        return match.group(1)

    def show_artifacts_of_run(self) -> None:
        """On a flow run page: the Artifacts tab and its `poll-demo` table artifact card."""
        self.click("the run's Artifacts tab", ARTIFACTS_TAB)
        card = self.wait(
            "the `poll-demo` artifact of the run", _visible(POLL_DEMO_CARD), refresh_every=15
        )
        assert "table" in card.text.lower(), card.text

    def quick_run(self) -> WebElement:
        """Run > Quick run > Run, as a person does, again if the server says it is busy.

        Quick run opens a "Run Deployment" dialog (the flow has a parameter, `connection`,
        filled with the deployment's default) whose Run button creates the run. The local
        Prefect server keeps its database in SQLite and now and then answers that request 503
        (SQLITE_BUSY, which Prefect calls retryable): the UI does not retry, it shows "Oops.
        Something went wrong.". A person reloads the page and clicks again; so does this test.
        """
        for attempt in range(1, QUICK_RUN_ATTEMPTS + 1):
            self.open_demo_deployment()
            self.click("the Run button", RUN_BUTTON)
            self.click("Quick run in the Run menu", QUICK_RUN)
            self.click("the Run button of the Run Deployment dialog", DIALOG_RUN_BUTTON)
            # A toast says "<random-name> scheduled to start now" for 5 s, with "View run".
            outcome = self.wait(
                "the toast of the new flow run (or of an error)",
                lambda d: _visible(CREATED_TOAST)(d) or _visible(API_ERROR_TOAST)(d),
                timeout=60,
            )
            if "Oops" not in outcome.text:
                return outcome
            said = " ".join(outcome.text.split())
            print(f"\nQuick run, attempt {attempt}: the UI said {said!r}")
        pytest.fail(f"Quick run failed {QUICK_RUN_ATTEMPTS} times: the Prefect server was busy")


# --- the tests ----------------------------------------------------------------------------


def test_deployment_shows_a_completed_poll_and_its_table_artifact(
    chromium: Chromium, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    ui = _ui(chromium, request, tmp_path)
    ui.open_demo_deployment()

    # The deployment's Runs tab lists its flow runs; a scheduled poll has already completed.
    ui.click("a Completed flow run of the deployment", COMPLETED_RUN_LINK, refresh_every=15)
    ui.wait("a flow run page", lambda d: RUN_ID.search(d.current_url))
    ui.wait("the run's Completed state", _visible(COMPLETED_BADGE))
    ui.wait("the run's name `poll demo`", lambda d: d.title.startswith(RUN_TITLE))

    ui.show_artifacts_of_run()
    ui.click("the `poll-demo` artifact card", POLL_DEMO_CARD)
    # The artifact page: its description ("demo: N orders scanned, ...") comes first, then
    # the table of counts itself.
    table = ui.wait("the artifact's table of counts", _visible(COUNTS_TABLE))
    assert "/artifacts/artifact/" in ui.driver.current_url
    assert "delivered" in table.text, table.text

    # The Artifacts page lists it by its key too.
    ui.driver.get(f"{ui.demo.ui}/artifacts")
    ui.wait(
        "the key `poll-demo` on the Artifacts page",
        _visible("//a[contains(@href, '/artifacts/key/poll-demo')]"),
    )


def test_quick_run_from_the_deployment_page_completes(
    chromium: Chromium, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    ui = _ui(chromium, request, tmp_path)
    deployment_id = ui.open_demo_deployment()
    of_deployment = {"deployments": {"id": {"any_": [deployment_id]}}}
    before = {run["id"] for run in _flow_runs(ui.demo, **of_deployment)}

    toast = ui.quick_run()
    created = time.monotonic()
    print(f"\nthe UI said: {' '.join(toast.text.split())}")
    ui.click("View run in the toast", VIEW_RUN, timeout=30)
    run_id = ui.wait("the new run's page", lambda d: RUN_ID.search(d.current_url)).group(1)
    assert run_id not in before, "View run opened a run that existed before the Run button"

    # The runner picks it up within seconds; the page follows the run's state.
    ui.wait("the new run Completed", _visible(COMPLETED_BADGE), RUN_TIMEOUT, 15)
    print(f"the UI showed it Completed {time.monotonic() - created:.0f}s after it was created")
    # Once it runs, the flow names it (`flow_run_name`): the random name becomes `poll demo`.
    ui.wait("the run renamed `poll demo`", lambda d: d.title.startswith(RUN_TITLE), 60, 10)
    ui.show_artifacts_of_run()

    [run] = _flow_runs(ui.demo, flow_runs={"id": {"any_": [run_id]}})
    assert run["deployment_id"] == deployment_id
    assert run["state_type"] == "COMPLETED", run["state"]
    assert run["name"] == "poll demo"
    assert "auto-scheduled" not in run["tags"], "the schedule made this run, not the Run button"

    screenshot = tmp_path / "completed-run.png"
    assert ui.driver.save_screenshot(str(screenshot))
    print(f"screenshot of the completed run page: {screenshot}")
    assert screenshot.stat().st_size > 0
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
