"""A real browser on ``kapgraph serve``'s query page: headless Chromium (Debian's, no download) driven
by Selenium types the README's PTSD before-and-after query into YASGUI, runs it and sees the four studies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kapgraph.serve import example_query

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
#: tests/test_queries.py: psychotherapy-before-and-after with diagnosis=PTSD
EXPECTED = {"dore2019", "duek2019", "halstead2021", "shiroma2020"}

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
        reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
    ),
]


@pytest.fixture()
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_query_page_runs_the_ptsd_query(served, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(served + "/")
    wait = WebDriverWait(browser, 60)
    editor = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".yasqe .CodeMirror")))
    editor.click()
    area = editor.find_element(By.CSS_SELECTOR, "textarea")
    area.send_keys(Keys.CONTROL, "a")
    area.send_keys(Keys.DELETE)
    # typed line by line, each line's auto-indent removed first: CodeMirror indents after a newline
    for line in example_query().splitlines():
        area.send_keys(line.strip())
        area.send_keys(Keys.ENTER)
        area.send_keys(Keys.SHIFT, Keys.HOME)
        area.send_keys(Keys.DELETE)
    typed = browser.execute_script("return document.querySelector('.yasqe .CodeMirror').CodeMirror.getValue()")
    assert "diagnosis/PTSD" in typed
    browser.find_element(By.CSS_SELECTOR, ".yasqe_queryButton").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr")) >= 4)
    text = browser.find_element(By.CSS_SELECTOR, ".yasr table").text
    browser.save_screenshot(str(tmp_path / "yasgui-ptsd.png"))
    assert (tmp_path / "yasgui-ptsd.png").stat().st_size > 0
    rows = browser.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr")
    assert len(rows) == 4
    for slug in EXPECTED:
        assert slug in text
