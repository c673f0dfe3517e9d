"""The control screen in a real browser (Debian's chromium, headless): one click on Snapshot next to a volume,
and the snapshot appears and reaches `completed`, told by the server's change events, not by polling."""
import os

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
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


def test_snapshot_lineage_restore_to_instance_console_tags_and_boot_plot():
    """Snapshot a running instance and watch its progress reach 100 %; the boot volume's lineage draws each
    snapshot as its catalog says (full or incremental); the newest one launches a new instance; the console's
    tail shows the guest's markers; a tag set through the screen reaches the volume; a kept boot run is plotted;
    a locked snapshot shows its lock."""
    endpoint = os.environ["SNAPLAB_ENDPOINT"]
    instance = os.environ["SNAPLAB_INSTANCE"]
    volume = os.environ["SNAPLAB_BOOT_VOLUME"]
    boot_run = os.environ["SNAPLAB_BOOT_RUN"]
    driver = make_driver()
    try:
        driver.set_window_size(1280, 1400)
        driver.get(endpoint + "/")
        # The screen redraws rows and the lineage on every change event: an element found may be replaced before
        # it is clicked or read, so each step finds it again until it works.
        wait = WebDriverWait(driver, 180, poll_frequency=0.5, ignored_exceptions=[StaleElementReferenceException])

        def click(css):
            wait.until(lambda d: d.find_element(By.CSS_SELECTOR, css).click() or True)
        rows = f'tr[data-snapshot-id][data-volume-id="{volume}"]'
        before = {r.get_attribute("data-snapshot-id") for r in wait.until(
            lambda d: d.find_elements(By.CSS_SELECTOR, rows))}
        click(f'tr[data-instance-id="{instance}"] button[data-action="snapshot-instance"]')
        progress_seen = set()

        def new_completed(d):
            for row in d.find_elements(By.CSS_SELECTOR, rows):
                if row.get_attribute("data-snapshot-id") in before:
                    continue
                progress = row.find_element(By.TAG_NAME, "progress").get_attribute("value")
                progress_seen.add(progress)
                if row.get_attribute("data-state") == "completed":
                    return row.get_attribute("data-snapshot-id"), progress
            return None

        snapshot, progress = wait.until(new_completed)
        assert progress == "100", progress_seen

        click(f'tr[data-volume-id="{volume}"] button[data-view="lineage"]')
        wait.until(lambda d: len(d.execute_script(
            "return document.querySelectorAll('#lineage .lineage-snapshot')")) == len(before) + 1)
        drawn = dict(driver.execute_script(
            "return [...document.querySelectorAll('#lineage .lineage-snapshot')]"
            ".map((m) => [m.dataset.snapshotId, m.dataset.kind])"))
        catalog = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            f"fetch('/api/snapshots?volume={volume}').then((r) => r.json()).then(done);")
        kinds = {s["id"]: "incremental" if s["incremental"] else "full" for s in catalog}
        assert drawn == kinds, f"drawn {drawn}, catalog {kinds}"
        assert "full" in drawn.values(), drawn
        locked = os.environ["SNAPLAB_LOCKED_SNAPSHOT"]
        padlocks = driver.execute_script(
            "return [...document.querySelectorAll('#lineage .lineage-snapshot[data-locked=\"yes\"]')]"
            ".map((m) => m.dataset.snapshotId)")
        assert padlocks == [locked], padlocks
        lock_cell = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'tr[data-snapshot-id="{locked}"] td.lock').text)
        assert lock_cell.startswith("governance until"), lock_cell

        click(f'#lineage .lineage-snapshot[data-snapshot-id="{snapshot}"]')
        click(f'#lineage-detail button[data-action="restore-to-instance"][data-id="{snapshot}"]')
        message = wait.until(lambda d: "done (i-" in d.find_element(By.ID, "message").text
                             and d.find_element(By.ID, "message").text)
        launched = message.split("done (")[1].rstrip(")")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-instance-id="{launched}"]'))
        with open(os.environ["SNAPLAB_LAUNCHED_FILE"], "w") as file:
            file.write(launched)

        click(f'tr[data-instance-id="{instance}"] button[data-view="console"]')
        tail = wait.until(lambda d: d.find_element(By.ID, "console-tail").text)
        assert "SNAPLAB-MARK ready" in tail, tail[-500:]

        click(f'tr[data-volume-id="{volume}"] button[data-action="tags"]')
        alert = wait.until(lambda d: d.switch_to.alert)
        alert.send_keys("team=blue")
        alert.accept()
        wait.until(lambda d: "team=blue" in d.find_element(By.CSS_SELECTOR, f'tr[data-volume-id="{volume}"]').text)

        click(f'tr[data-boot-run="{boot_run}"] button[data-view="boot-run"]')
        plot = wait.until(lambda d: d.find_element(By.ID, "boot-plot"))
        wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", plot) > 0)
        driver.execute_script("document.getElementById('lineage').scrollIntoView()")
        assert driver.save_screenshot(os.environ["SNAPLAB_SCREENSHOT"])
    finally:
        driver.quit()
