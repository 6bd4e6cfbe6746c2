"""`make studio` in a real browser: the demo project's labeling page opens with the model's suggestions selected."""

from __future__ import annotations

import json
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from conftest import ROOT, STUDIO_ENV

from annotation.studio_server import free_port

CHROMIUM = "/usr/bin/chromium"
# Flags that work on these machines: no sandbox as root, and no calls out of the closed network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [pytest.mark.studio, pytest.mark.browser]


@pytest.fixture(scope="module")
def demo_studio(tmp_path_factory):
    """`scripts/studio_demo.py` (what `make studio` runs) on a free port, with what it printed."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: `make browser` installs Debian's chromium package")
    work = tmp_path_factory.mktemp("studio-work")
    command = [sys.executable, str(ROOT / "scripts" / "studio_demo.py"), "--env", str(STUDIO_ENV)]
    process = subprocess.Popen(
        [*command, "--work", str(work), "--port", str(free_port()), "--backend-port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    printed = []
    deadline = time.monotonic() + 600
    while not any(line.startswith("Log in as") for line in printed):
        try:
            printed.append(lines.get(timeout=1))
        except queue.Empty:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("make studio ended or printed no login within 10 minutes:\n" + "".join(printed))
    try:
        yield work, "".join(printed)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0


def test_make_studio_prints_the_address_and_login(demo_studio):
    work, printed = demo_studio
    account = json.loads((work / "login.json").read_text())
    assert re.search(r"Label Studio: http://127\.0\.0\.1:\d+/projects/\d+/data", printed)
    assert f"Log in as {account['email']} with password {account['password']}" in printed
    assert "framestance demo: imported 321 tasks" in printed and "suggested 321 tasks" in printed
    assert re.search(r"framestance demo: connected to http://127\.0\.0\.1:\d+", printed)
    assert account["token"] not in printed


def test_the_labeling_page_shows_the_suggested_choices_selected(demo_studio):
    from label_studio_sdk import LabelStudio
    from playwright.sync_api import sync_playwright

    work, printed = demo_studio
    account = json.loads((work / "login.json").read_text())
    url, project_id = re.search(r"Label Studio: (http://[\d.:]+)/projects/(\d+)/data", printed).groups()
    client = LabelStudio(base_url=url, api_key=account["token"])
    project = client.projects.get(id=int(project_id))
    task = next(iter(client.tasks.list(project=project.id, fields="all")))
    (prediction,) = [p if isinstance(p, dict) else p.model_dump() for p in task.predictions]
    # The project shows the connected backend's suggestions; until it retrains, they are the demo model's.
    assert project.model_version == "framestance" and project.show_collab_predictions
    backend = re.search(r"ML backend: (http://[\d.:]+)", printed).group(1)
    served = json.loads(urllib.request.urlopen(f"{backend}/health", timeout=5).read())
    assert prediction["model_version"] == served["model_version"]
    # The suggestion came through the backend, which wants the password that only Label Studio holds.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(f"{backend}/predict", data=b"{}", method="POST"), timeout=5)
    assert refused.value.code == 401

    # What the page should show selected: per question shown, in the config's order, the display names.
    config = ET.fromstring(project.label_config)
    shown = [node for node in config.iter("Choices") if node.get("perRegion") != "true"]
    chosen = {item["from_name"]: item["value"]["choices"] for item in prediction["result"]}
    expected = [
        sorted(c.get("value") for c in node if c.get("alias") in chosen.get(node.get("name"), [])) for node in shown
    ]
    # Pre-filled are exactly the questions the demo model earned, as `make studio` printed them, one line each.
    earned = set(re.findall(r"^(\S+): pre-filled: ", printed, re.MULTILINE))
    left = set(re.findall(r"^(\S+): left for the annotator: ", printed, re.MULTILINE))
    assert earned and set(chosen) == earned and not earned & left
    assert (
        len(earned | left) == len(shown)
        and served["prefill"]
        and all(" pre-filled" in line or " left" in line for line in served["prefill"])
    )

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            page.goto(f"{url}/user/login/")
            page.fill("input[name=email]", account["email"])
            page.fill("input[name=password]", account["password"])
            with page.expect_navigation():
                page.click("button[type=submit]")
            assert "/user/login" not in page.url, "the login form refused the printed login"
            page.goto(f"{url}/projects/{project.id}/data?task={task.id}")
            page.wait_for_selector(".lsf-choices:not(.lsf-choices_hidden) input:checked", timeout=60_000)
            selected = page.eval_on_selector_all(
                ".lsf-choices:not(.lsf-choices_hidden)",
                "groups => groups.map(g => [...g.querySelectorAll('input:checked')].map(i => i.name).sort())",
            )
            page.screenshot(path=str(ARTIFACTS / "labeling-page.png"), full_page=True)
            body = page.inner_text("body")
        finally:
            browser.close()
    assert selected == expected
    assert task.data["text"][:60] in body and task.data["source_line"] in body
    # Which targets the passage names, from the codebook's aliases, under the passage.
    assert task.data["mentions_line"].startswith("mentions: ") and task.data["mentions_line"] in body
    assert '"predictions"' not in body  # the task's JSON is not shown in place of its source
