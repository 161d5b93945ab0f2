"""A real browser: Debian's headless Chromium, driven by Selenium, against Django's live
server and against gunicorn with the production settings."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import HTTPS

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARGUMENTS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")
INSTALL = (["apt-get", "update"], ["apt-get", "install", "-y", "chromium", "chromium-driver"])


def install_chromium() -> str:
    """Install Debian's chromium and chromium-driver if missing; return why not, or ''."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return ""
    if shutil.which("apt-get") is None:
        return "chromium is not installed and apt-get is not available"
    if os.geteuid() != 0:
        return "chromium is not installed and installing it with apt-get needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in INSTALL:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return f"`{' '.join(command)}` failed: {last}"
    return "" if CHROMIUM.exists() and CHROMEDRIVER.exists() else "apt-get installed no chromium"


@pytest.fixture(scope="session")
def browser():
    reason = install_chromium()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (*ARGUMENTS, "--window-size=1440,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.fixture(params=["live_server", "gunicorn"])
def site(request, browser) -> Iterator[tuple[str, str]]:
    """(name, URL) of a server; gunicorn sits behind a TLS proxy that the browser plays."""
    url = request.getfixturevalue(request.param)
    if request.param == "live_server":
        yield request.param, url.url
        return
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": HTTPS})
    yield request.param, url
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})


def javascript_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def full_page_screenshot(driver, name: str) -> Path:
    OUTPUT.mkdir(exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1440, min(max(height + 200, 1000), 6000))
    path = OUTPUT / name
    driver.save_screenshot(str(path))
    driver.set_window_size(1440, 1000)
    return path


def column_sort_keys(table, index: int) -> list[float]:
    """The column's numbers in row order; blank cells (not benchmarked) must come last."""
    cells = table.find_elements("css selector", f"tbody tr td:nth-child({index + 1})")
    keys = [c.get_attribute("data-sort") for c in cells]
    numbers = [float(k) for k in keys if k]
    assert keys == [*keys[: len(numbers)], *[""] * (len(keys) - len(numbers))]
    return numbers


@pytest.mark.browser
def test_leaderboard_to_eos_page_draws_charts_and_sorts(browser, transactional_db, site, arena):
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    server, url = site
    wait = WebDriverWait(browser, 30)
    javascript_errors(browser)  # empty the log
    browser.get(f"{url}/")
    assert "Arena ranking" in browser.page_source
    full_page_screenshot(browser, f"leaderboard-{server}.png")

    browser.find_element("link text", "Equation of state (bulk)").click()
    wait.until(ec.url_contains("/tasks/eos/"))
    for chart in ("eos-curves", "eos-parity", "eos-element-table"):
        wait.until(ec.presence_of_element_located(("css selector", f"#chart-{chart} svg.main-svg")))
    assert browser.find_elements("css selector", "#chart-eos-curves g.trace.scatter")
    assert browser.find_elements("css selector", "#chart-eos-parity g.trace.scatter")
    assert browser.find_elements("css selector", "#chart-eos-element-table g.hm image")

    table = browser.find_element("css selector", 'table[data-table="task-eos"]')
    headers = table.find_elements("css selector", "thead th")
    index = next(i for i, th in enumerate(headers) if th.text.startswith("Δ (meV/atom)"))
    headers[index].find_element("tag name", "button").click()
    assert headers[index].get_attribute("aria-sort") == "ascending"
    ascending = column_sort_keys(table, index)
    assert ascending == sorted(ascending) and len(ascending) == 3
    headers[index].find_element("tag name", "button").click()
    assert column_sort_keys(table, index) == sorted(ascending, reverse=True)

    raw = browser.find_element(
        "xpath", "//*[@id='chart-eos-curves']//*[name()='text' and text()='Raw energies']"
    )
    raw.find_element("xpath", "..").click()
    wait.until(
        ec.text_to_be_present_in_element(("css selector", "#chart-eos-curves .ytitle"), "eV/atom")
    )
    assert full_page_screenshot(browser, f"eos-task-{server}.png").stat().st_size > 10_000
    assert javascript_errors(browser) == []


PHONE = (420, 900)
OVERFLOW = "return document.documentElement.scrollWidth - window.innerWidth"


def within_view(driver, element) -> bool:
    """Whether the element's box lies inside the window's width (legends, buttons)."""
    box = driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right, r.width];",
        element,
    )
    return box[2] > 0 and box[0] >= -1 and box[1] <= PHONE[0] + 1


BOX = "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right];"


@pytest.mark.browser
def test_pages_fit_a_phone_and_put_values_first_on_a_laptop(
    browser, transactional_db, live_server, arena
):
    """At 420 px: no horizontal scrolling of the page (wide tables scroll in their box,
    the model column staying where it is), every chart's legend and the E(V) axis
    buttons inside the window, the compare page's curves and periodic table drawn, and
    the detail columns shown on request. At 1,366 px the EOS table's first ranked
    metric (its headline, Δ) and the home page's EOS value are in view unscrolled."""
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    javascript_errors(browser)
    OUTPUT.mkdir(exist_ok=True)
    browser.set_window_size(*PHONE)
    try:
        browser.get(f"{live_server.url}/compare/?models=emt,sevennet-0")
        for chart in ("compare-eos-curves", "compare-table-eos"):
            wait.until(
                ec.presence_of_element_located(("css selector", f"#chart-{chart} svg.main-svg"))
            )
        names = browser.find_elements("css selector", "#chart-compare-eos-curves g.legend text")
        assert {"EMT", "SevenNet-0"} <= {n.text for n in names}
        assert all(within_view(browser, n) for n in names if n.text)
        assert "2 shared structures" in browser.page_source
        assert browser.execute_script(OVERFLOW) <= 0
        browser.save_screenshot(str(OUTPUT / "compare-420.png"))

        browser.get(f"{live_server.url}/tasks/eos/")
        wait.until(
            ec.presence_of_element_located(("css selector", "#chart-eos-parity svg.main-svg"))
        )
        assert browser.execute_script(OVERFLOW) <= 0
        for legend in browser.find_elements("css selector", "g.legend text.legendtext"):
            assert within_view(browser, legend), legend.text
        raw = browser.find_element(
            "xpath", "//*[@id='chart-eos-curves']//*[name()='text' and text()='Raw energies']"
        )
        assert within_view(browser, raw)
        assert not browser.find_elements("css selector", ".modebar-container .modebar-btn")
        box = browser.find_element("css selector", "#task-eos .table-scroll")
        model = browser.find_element("css selector", '#task-eos th[data-key="model"]')
        metric = browser.find_element("css selector", '#task-eos th[data-key="delta_mev_per_atom"]')
        before, metric_before = (browser.execute_script(BOX, e) for e in (model, metric))
        scrolled = browser.execute_script(
            "arguments[0].scrollLeft = arguments[0].scrollWidth; return arguments[0].scrollLeft",
            box,
        )
        assert scrolled > 200  # the metrics are wider than a phone
        assert browser.execute_script(BOX, model) == pytest.approx(before, abs=1)
        assert browser.execute_script(BOX, metric)[0] < metric_before[0] - 200
        browser.save_screenshot(str(OUTPUT / "eos-table-420-scrolled.png"))
        spread = browser.find_element("css selector", '#task-eos th[data-key$="_std"]')
        assert not spread.is_displayed()
        browser.find_element("css selector", "#task-eos input.show-more").click()
        assert spread.is_displayed() and spread.text.endswith("±")
        browser.save_screenshot(str(OUTPUT / "eos-task-420.png"))

        browser.set_window_size(1366, 900)
        width = browser.execute_script("return window.innerWidth")
        browser.get(f"{live_server.url}/tasks/eos/")
        table = browser.find_element("css selector", "#task-eos table")
        headers = [
            th for th in table.find_elements("css selector", "thead th") if th.is_displayed()
        ]
        assert [th.get_attribute("data-key") for th in headers[:3]] == [
            "model", "rank", "delta_mev_per_atom",
        ]  # fmt: skip
        left, right = browser.execute_script(BOX, headers[2])
        assert left >= 0 and right <= width, (left, right, width)
        browser.get(f"{live_server.url}/")
        value = browser.find_element("css selector", 'th[data-key="eos_delta_mev_per_atom"]')
        assert browser.execute_script(BOX, value)[1] <= width
    finally:
        browser.set_window_size(1440, 1000)
    assert javascript_errors(browser) == []
