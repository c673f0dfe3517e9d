"""The control screen in a real browser (Debian's chromium, headless): one click on Snapshot next to a volume,
and the snapshot appears and reaches `completed`, told by the server's change events, not by polling."""
import os

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def make_driver():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def test_one_click_snapshot():
    endpoint = os.environ["SNAPLAB_ENDPOINT"]
    volume = os.environ["SNAPLAB_VOLUME"]
    driver = make_driver()
    try:
        driver.set_window_size(1280, 1100)
        driver.get(endpoint + "/")
        wait = WebDriverWait(driver, 120, poll_frequency=0.5)
        assert "Snaplab" in driver.title
        button = wait.until(lambda d: d.find_element(
            By.CSS_SELECTOR, f'button[data-action="snapshot-volume"][data-id="{volume}"]'))
        assert not driver.find_elements(By.CSS_SELECTOR, f'tr[data-snapshot-id][data-volume-id="{volume}"]')
        button.click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-snapshot-id][data-volume-id="{volume}"]'))
        row = wait.until(lambda d: d.find_element(
            By.CSS_SELECTOR, f'tr[data-snapshot-id][data-volume-id="{volume}"][data-state="completed"]'))
        assert row.get_attribute("data-snapshot-id").startswith("snap-")
        assert "done" in driver.find_element(By.ID, "message").text
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname)")
        assert fetched.count("/api/snapshots") == 1, f"the snapshot list was read more than once: {fetched}"
        stream = driver.execute_script("return events && [events.url, events.readyState]")
        assert stream and "/api/events" in stream[0] and stream[1] == 1, f"no open change event stream: {stream}"
        assert driver.save_screenshot(os.environ["SNAPLAB_SCREENSHOT"])
    finally:
        driver.quit()


def test_instance_actions_and_panels():
    """Stop, start and terminate an instance by its buttons; the rows follow from the change events. The hosts
    and store panels show this machine's host and the store."""
    endpoint = os.environ["SNAPLAB_ENDPOINT"]
    instance = os.environ["SNAPLAB_INSTANCE"]
    row = f'tr[data-instance-id="{instance}"]'
    driver = make_driver()
    try:
        driver.get(endpoint + "/")
        wait = WebDriverWait(driver, 180, poll_frequency=0.5)
        state = lambda d: d.find_element(By.CSS_SELECTOR, f"{row} td:nth-child(2)").text
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'{row} button[data-action="stop"]')).click()
        wait.until(lambda d: state(d) == "stopped")
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'{row} button[data-action="start"]')).click()
        wait.until(lambda d: state(d) in ("pending", "running"))
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'{row} button[data-action="terminate"]')).click()
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, row))
        host = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-host="local"]'))
        assert "qemu:///system" in host.text and "GiB" in host.text, host.text
        store = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "tr[data-store-url]"))
        assert store.get_attribute("data-store-url").startswith("dir://"), store.text
    finally:
        driver.quit()


def test_policy_history_shows_what_retention_pruned():
    """The policy view: schedule, retention, and runs with what each took and pruned."""
    endpoint = os.environ["SNAPLAB_ENDPOINT"]
    policy = os.environ["SNAPLAB_POLICY"]
    pruned = os.environ["SNAPLAB_PRUNED"]
    driver = make_driver()
    try:
        driver.get(endpoint + "/")
        wait = WebDriverWait(driver, 120, poll_frequency=0.5)
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'button[data-view="policy"][data-id="{policy}"]')).click()
        cell = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#policy-runs td.pruned:not(:empty)"))
        assert pruned in cell.text, cell.text
        heading = driver.find_element(By.CSS_SELECTOR, "#policy-view h3").text
        assert "every 60 s" in heading and "keeps 1 last" in heading and "next run" in heading, heading
        assert len(driver.find_elements(By.CSS_SELECTOR, '#policy-runs tr[data-run-state="succeeded"]')) == 2
    finally:
        driver.quit()
