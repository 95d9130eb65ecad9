"""A real browser on the Airflow UI: Debian's Chromium, headless, driven by Playwright (the Python
package brings its own driver; no browser is downloaded). On any failure it leaves a screenshot
of what the browser saw."""

from __future__ import annotations

import shutil
from pathlib import Path

from .common import PartUnavailable

CHROMIUM = "/usr/bin/chromium"
# Headless, as root, on a machine whose closed network refuses Chromium's own background calls.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    path = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if not path:
        raise PartUnavailable("Chromium is not installed: apt-get install chromium")
    return path


def run_is_shown_successful(ui_url: str, username: str, password: str, dag_id: str, run_id: str,
                            screenshot: Path) -> str:
    """Log in to the UI at ``ui_url`` and open the run's page; returns the run's state as the page
    shows it. Raises AssertionError (after saving ``screenshot``) when a step fails."""
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        try:
            page.goto(ui_url, wait_until="networkidle", timeout=60_000)
            page.fill("input[name=username]", username, timeout=30_000)
            page.fill("input[name=password]", password)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_load_state("networkidle", timeout=60_000)
            if page.locator("input[name=password]").count():
                raise AssertionError("the UI refused the login")
            page.goto(f"{ui_url}/dags/{dag_id}/runs/{run_id}", wait_until="networkidle", timeout=60_000)
            state = page.get_by_text("success", exact=False).first
            state.wait_for(timeout=30_000)
            return state.inner_text()
        except (Error, AssertionError) as failure:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
            raise AssertionError(f"{failure} (screenshot: {screenshot})") from None
        finally:
            browser.close()
