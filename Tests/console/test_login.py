"""Signing in to the control screen of a server with access keys (headless chromium), and a page of another
site that posts to the server: refused, nothing created."""
import os

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

PASSWORD = os.environ["SNAPLAB_CONSOLE_PASSWORD"]


def browser():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def test_sign_in_wrong_then_right_password():
    endpoint = os.environ["SNAPLAB_ENDPOINT"]
    volume = os.environ["SNAPLAB_VOLUME"]
    driver = browser()
    try:
        wait = WebDriverWait(driver, 60, poll_frequency=0.5)
        driver.get(endpoint + "/")
        field = wait.until(lambda d: d.find_element(By.ID, "password"))
        field.send_keys("not the password")
        driver.find_element(By.ID, "sign-in").click()
        wait.until(lambda d: "wrong password" in d.find_element(By.ID, "message").text)
        assert not driver.get_cookies()

        field = driver.find_element(By.ID, "password")
        field.clear()
        field.send_keys(PASSWORD)
        driver.find_element(By.ID, "sign-in").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'button[data-id="{volume}"]'))
        (cookie,) = driver.get_cookies()
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"
        assert driver.execute_script("return document.cookie") == "", "scripts cannot read the session"
    finally:
        driver.quit()


def test_a_cross_site_post_is_refused():
    endpoint = os.environ["SNAPLAB_ENDPOINT"]
    volume = os.environ["SNAPLAB_VOLUME"]
    driver = browser()
    try:
        # A page of another origin (here a data: URL) posting a console action as a plain form would.
        driver.get("data:text/html,<p>elsewhere</p>")
        status = driver.execute_async_script(
            """
            const [url, done] = arguments;
            fetch(url, {method: "POST", mode: "no-cors", body: "x"})
              .then(() => done("sent"), (error) => done("failed: " + error));
            """,
            f"{endpoint}/api/volumes/{volume}/snapshot")
        # An opaque answer either way; APITests checks on the server that no snapshot was made.
        assert status in ("sent", "failed: TypeError: Failed to fetch")
    finally:
        driver.quit()
