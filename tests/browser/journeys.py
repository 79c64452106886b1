"""The web app in a real browser: people's journeys through web/, end to end.

Headless Chromium (Debian's `chromium`) driven by Playwright, against a private local stack
(target/debug/ates-local on a free loopback port, stopped when this process ends: it watches its
stdin, which only we hold). Screenshots of every journey go to target/browser-screenshots/.

    python tests/browser/journeys.py        (make test runs it; make build first)
    python tests/browser/journeys.py --keep-going   (run every journey even after one failed)
    python tests/browser/journeys.py --only=a_client_applies_is_accepted_and_sees_no_tracker,...

The journeys share one stack and run in order: the admin's accounts are the later journeys'
people. Test setup that is not the journey itself (waiting for events to reach a context,
reading the mailed code) talks to the API and /_local directly.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "target" / "browser-screenshots"
TIMEOUT_MS = 30_000
STAMP = str(time.time_ns())
DEFAULT_DAYS = 14  # the range pages with figures open on (web/js/pages/company.js)


def chromium():
    found = os.environ.get("ATES_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        sys.exit("browser tests: no chromium (apt-get install chromium, or set ATES_CHROMIUM)")
    return found


def dollars(cents):
    """As web/js/format.js writes money: integer arithmetic only."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{rest:02d}"


def admin_credentials():
    """The admin ates-local bootstraps (infra/local/local.json, with its environment overrides)."""
    bootstrap = json.loads((ROOT / "infra/local/local.json").read_text())["bootstrap"]
    given = {field: os.environ.get(var) for field, var in bootstrap["env"].items()}
    pick = lambda field: given.get(field) or bootstrap["input"][field]  # noqa: E731
    return pick("email"), pick("password")


class Stack:
    """A local stack of our own: ates-local on a free port, its own emulator and state."""

    def __init__(self):
        binary = ROOT / "target/debug/ates-local"
        if not binary.exists():
            sys.exit(f"browser tests: {binary} is missing (make build)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.state = Path(tempfile.mkdtemp(prefix="ates-browser-"))
        self.log = open(self.state / "stack.err", "w")
        self.process = subprocess.Popen(
            [str(binary), "--port", str(port), "--state-dir", str(self.state), "--exit-with-stdin"],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)
        ready = threading.Event()

        def watch():
            for line in self.process.stdout:
                if "aTES local stack ready at" in line:
                    ready.set()

        threading.Thread(target=watch, daemon=True).start()
        if not ready.wait(120):
            self.stop()
            sys.exit(f"browser tests: the local stack did not start; see {self.state / 'stack.err'}")
        self.url = f"http://127.0.0.1:{port}"
        info = self.call("GET", "/_local/info")[1]
        self.aws = info["aws_endpoint"]
        self.tables = {t["logical_id"]: t["name"] for t in info["tables"]}

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def call(self, method, path, token=None, body=None, headers=None):
        """(status, JSON body or None) of an API request."""
        request = urllib.request.Request(self.url + path, method=method)
        if token:
            request.add_header("authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            request.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(request, data, timeout=30) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        return status, (json.loads(text) if text else None)

    def sign_in(self, email, password):
        status, pair = self.call("POST", "/auth/sign-in", body={"email": email, "password": password})
        assert status == 200, f"sign-in of {email}: {status} {pair}"
        return pair["access_token"]

    def mail_to(self, email):
        return [m for m in self.call("GET", "/_local/mail")[1] if email in json.dumps(m["to"])]

    def publish(self, producer, name, data):
        """Puts `data` on the bus as `producer` would publish the event `name` (version 1), as
        tests/support's Stack::publish does: what another context would publish."""
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {"source": f"ates.{producer}", "detail-type": name, "detail": {
            "id": str(uuid.uuid4()), "name": name, "version": 1, "occurred_at": now, "producer": producer,
            "correlation_id": f"browser-{uuid.uuid4()}", "data": data}}
        status, answer = self.call("POST", "/_local/events", body=event)
        assert status == 200 and answer.get("failed") == 0, f"publish {name}: {status} {answer}"

    def items(self, table, prefix):
        """The items of a context's table (its logical id) whose pk starts with `prefix`."""
        found, start = [], None
        while True:
            body = {"TableName": self.tables[table]}
            if start:
                body["ExclusiveStartKey"] = start
            request = urllib.request.Request(
                self.aws + "/", method="POST", data=json.dumps(body).encode(),
                headers={"x-amz-target": "DynamoDB_20120810.Scan", "content-type": "application/x-amz-json-1.0",
                         "authorization": "AWS4-HMAC-SHA256 Credential=test/20261121/us-east-1/dynamodb/aws4_request, "
                                          "SignedHeaders=host, Signature=0"})
            with urllib.request.urlopen(request, timeout=30) as r:
                page = json.loads(r.read())
            found += [i for i in page["Items"] if i["pk"]["S"].startswith(prefix)]
            start = page.get("LastEvaluatedKey")
            if not start:
                return found

    def pool(self):
        """The accounts the task tracker may assign tasks to (its pool's slots, `POOL#<n>`)."""
        return {item["account_id"]["S"] for item in self.items("TasksTable", "POOL#") if "account_id" in item}


def eventually(seconds, what, check):
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds}s: {what}")
        time.sleep(0.25)


def shown_soon(locator, ms=2000):
    try:
        expect(locator).to_be_visible(timeout=ms)
        return True
    except AssertionError:
        return False


def tab_to(page, locator, presses=80, key="Tab"):
    """Presses Tab (or `key`: Shift+Tab) until `locator` has the focus; checks the focus is drawn."""
    target = locator.element_handle()
    for _ in range(presses):
        page.keyboard.press(key)
        if page.evaluate("e => e === document.activeElement", target):
            outline = page.evaluate("e => getComputedStyle(e).outlineStyle", target)
            assert outline not in ("", "none"), f"the focus is not visible: outline {outline!r}"
            return
    raise AssertionError(f"Tab never reached {locator}")


class Journeys:
    def __init__(self, stack, browser):
        self.stack = stack
        self.browser = browser
        self.people = {}

    # --- helpers on a page

    def page(self, name):
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.journey = name
        page.shots = 0
        return page

    def shot(self, page, what):
        page.shots += 1
        path = SHOTS / f"{page.journey}-{page.shots:02d}-{what}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def sign_in_with_password(self, page, email, password):
        page.goto(self.stack.url + "/")
        expect(page.get_by_role("heading", name="Sign in to aTES")).to_be_visible()
        form = page.locator("form", has=page.get_by_role("heading", name="With a password"))
        form.get_by_label("Email").fill(email)
        form.get_by_label("Password").fill(password)
        form.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("who")).to_contain_text(email)

    def mailed_code(self, email, before):
        """The sign-in code in the first code's mail to `email` after its `before` first mails
        (not another mail that reaches the address meanwhile: an applicant's welcome)."""
        mail = eventually(30, "the sign-in code in the mail", lambda: [
            m for m in self.stack.mail_to(email)[before:] if m["subject"] == "Your aTES sign-in code"])
        return re.search(r"\b(\d{6})\b", json.dumps(mail[0]["subject"]) + json.dumps(mail[0]["body"])).group(1)

    def sign_in_with_a_code(self, page, email):
        page.goto(self.stack.url + "/")
        form = page.locator("section", has=page.get_by_role("heading", name="With a code by mail"))
        form.get_by_label("Email").fill(email)
        before = len(self.stack.mail_to(email))
        form.get_by_role("button", name="Mail me a code").click()
        form.get_by_label("Code from the mail (6 digits)").fill(self.mailed_code(email, before))
        form.get_by_role("button", name="Sign in with the code").click()
        expect(page.get_by_test_id("who")).to_contain_text(email)

    def token_by_a_code(self, email):
        """An access token of `email` signed in with a mailed code through the API (for the test's
        own reads, of someone who has no password)."""
        before = len(self.stack.mail_to(email))
        status, asked = self.stack.call("POST", "/auth/sign-in/code/request", body={"email": email})
        assert status == 202, asked
        status, pair = self.stack.call("POST", "/auth/sign-in/code", body={"email": email, "code": self.mailed_code(email, before)})
        assert status == 200, pair
        return pair["access_token"]

    def keep_a_card(self, page, token):
        """On My account, the client gives a card token to keep."""
        card = page.get_by_role("form", name="Card on file")
        card.get_by_label("Card token (from the acquirer)").fill(token)
        card.get_by_role("button", name="Keep this card").click()

    def no_horizontal_overflow(self, page, what):
        """Nothing on the page is wider than the window, and no table wider than the page's column."""
        wide = page.evaluate("""() => {
            const main = document.querySelector('main').getBoundingClientRect();
            const out = [];
            if (document.documentElement.scrollWidth > document.documentElement.clientWidth) {
                out.push(`the page is ${document.documentElement.scrollWidth}px wide in a ${document.documentElement.clientWidth}px window`);
            }
            for (const t of document.querySelectorAll('main table')) {
                const r = t.getBoundingClientRect();
                if (r.width > 0 && r.right > main.right + 1) out.push(`a table "${t.caption?.textContent ?? ''}" is ${Math.round(r.width)}px wide, past the page's column (${Math.round(main.width)}px)`);
                // Nor is a column squeezed to make room: no heading is broken inside a word.
                for (const th of t.querySelectorAll('th')) {
                    const range = document.createRange();
                    range.selectNodeContents(th);
                    const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
                    const words = th.textContent.trim().split(/\s+/).length;
                    if (lines > words) out.push(`the heading "${th.textContent}" is broken over ${lines} lines`);
                }
            }
            return out;
        }""")
        assert not wide, f"{what}: {wide}"

    def nav_only(self, page, name):
        page.get_by_role("navigation", name="Pages").get_by_role("link", name=name).click()

    def nav(self, page, name):
        self.nav_only(page, name)
        expect(page.get_by_role("heading", level=1)).to_have_text(name)

    # --- hiring (SPEC M1)

    def hiring_manager(self):
        """A manager with a password, made through the API (the hiring journeys stand alone)."""
        if "hiring_manager" not in self.people:
            email, password = admin_credentials()
            admin = self.stack.sign_in(email, password)
            address = f"hiring-manager-{STAMP}@popug.test"
            status, body = self.stack.call("POST", "/accounts", admin, {
                "email": address, "full_name": "Hiring Popug", "role": "manager", "password": "hiring-password-1"})
            assert status == 201, body
            self.people["hiring_manager"] = {"email": address, "password": "hiring-password-1"}
        return self.people["hiring_manager"]

    def apply_in_the_browser(self, page, kind, email, full_name):
        """Applies from the sign-in page's link; answers the link mailed to the applicant."""
        before = len(self.stack.mail_to(email))
        page.goto(self.stack.url + "/")
        page.get_by_role("link", name="Apply to join UberPopug").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Apply to UberPopug")
        page.get_by_label(re.compile(f"^{kind.capitalize()}:")).check()
        page.get_by_label("Email").fill(email)
        page.get_by_label("Full name").fill(full_name)
        page.get_by_role("button", name="Apply").click()
        expect(page.get_by_test_id("apply-out")).to_contain_text(f"Check your mail at {email}")
        # The token's mail, not notifications' receipt, which may arrive first.
        mail = eventually(30, f"the application mail to {email}", lambda: [
            m for m in self.stack.mail_to(email)[before:] if "/#/application/" in json.dumps(m["body"])])
        found = re.search(r"(/#/application/([0-9a-f-]{36})/([A-Za-z0-9_-]+))", json.dumps(mail[0]["body"]))
        assert found, f"no application link in {mail[0]}"
        return {"link": self.stack.url + found.group(1), "id": found.group(2), "token": found.group(3)}

    def open_application(self, page, kind, status, name):
        """From the Applications page: filter by kind and status, open the one named `name`."""
        self.nav(page, "Applications")
        form = page.get_by_role("form", name="Filter applications")
        form.get_by_label("Status").select_option(status)
        form.get_by_label("Kind").select_option(kind)
        form.get_by_role("button", name="Show").click()
        expect(page.locator("caption")).to_contain_text(f"Applications in {status}, {kind}s, all dates")
        page.get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        expect(page.get_by_test_id("review-status")).to_have_text(status)

    def add_question(self, page, text, options):
        form = page.get_by_role("form", name="Add a question")
        form.get_by_label("Question").fill(text)
        if len(options) > 4:
            form.get_by_role("button", name="Add an option").click()
        for i, (option, points) in enumerate(options, start=1):
            form.get_by_label(f"Option {i}", exact=True).fill(option)
            form.get_by_label(f"Points of option {i}", exact=True).fill(str(points))
        form.get_by_role("button", name="Add the question").click()
        expect(page.get_by_text("Added the question.")).to_be_visible()
        questions = page.locator("section", has=page.get_by_role("heading", name="Questions"))
        expect(questions.locator("table").get_by_text(text, exact=True)).to_be_visible()

    def give_the_test(self, page, name, profile):
        """A manager opens the worker application of `name` (in new: not yet to be accepted) and
        gives it the test of `profile` (its label in the form)."""
        self.open_application(page, "worker", "new", name)
        expect(page.get_by_role("button", name="Accept")).to_have_count(0)
        gives = page.get_by_role("form", name="Give a test")
        gives.get_by_label("Test profile").select_option(label=profile)
        gives.get_by_role("button", name="Give the test").click()
        expect(page.get_by_test_id("review-status")).to_have_text("test")
        expect(page.get_by_role("button", name="Accept")).to_have_count(0)
        expect(page.get_by_role("button", name="Decline")).to_have_count(0)

    def take_the_test(self, applicant, link, questions, answers, score):
        """The applicant follows the mailed link, ticks `answers` (options' texts) in a test of
        `questions` questions, submits, and reads their score."""
        applicant.goto(link)
        expect(applicant.get_by_test_id("application-status")).to_have_text("test")
        expect(applicant.get_by_test_id("deadline")).to_be_visible()
        test = applicant.get_by_role("form", name="The test")
        expect(test.locator("fieldset")).to_have_count(questions)
        for answer in answers:
            test.get_by_label(answer).check()
        self.shot(applicant, "test")
        test.get_by_role("button", name="Submit my answers").click()
        expect(applicant.get_by_text("Submitted. Your answers are scored.")).to_be_visible()
        expect(applicant.get_by_test_id("application-status")).to_have_text("check")
        expect(applicant.get_by_test_id("application-score")).to_have_text(score)
        expect(applicant.get_by_role("form", name="The test")).to_have_count(0)

    def accept_in_the_browser(self, page, skills=None, level=None):
        """A manager accepts the application open on `page` (a worker with skills and a level)."""
        accept = page.get_by_role("form", name="Accept")
        if skills:
            accept.get_by_label(re.compile("^Skills")).fill(skills)
            accept.get_by_label("Level").select_option(level)
        accept.get_by_role("button", name="Accept").click()
        expect(page.get_by_test_id("review-status")).to_have_text("accepted")
        expect(page.get_by_test_id("review-out")).to_contain_text("Accepted")

    def a_test_profile(self, token):
        """A profile of one test of one question, kept by a manager through the API (the test
        bank's own journey keeps one in the browser): its label in the Give a test form."""
        def keep(path, body):
            status, kept = self.stack.call("POST", path, token, body, headers={"idempotency-key": str(uuid.uuid4())})
            assert status == 201, kept
            return kept
        question = keep("/hiring/questions", {"text": f"Who waxes a perch? {STAMP}", "options": [
            {"text": "A waxing popug", "points": 4}, {"text": "A sleeping popug", "points": 0}]})
        test = keep("/hiring/tests", {"title": f"Perch waxing {STAMP}", "question_ids": [question["question_id"]]})
        name = f"Perch waxer {STAMP}"
        keep("/hiring/profiles", {"name": name, "test_ids": [test["test_id"]], "pass_mark": 4, "time_limit_days": 7})
        return f"{name} (pass 4 of 4, 7 days)"

    # --- accounts

    def create_in_the_browser(self, page, role, full_name, password=None):
        """The admin, on Accounts, creates an account (without a password: it signs in with
        mailed codes); its address."""
        address = f"{role}-{STAMP}-{len(self.people)}@popug.test"
        form = page.locator("form", has=page.get_by_role("button", name="Create account"))
        form.get_by_label("Email").fill(address)
        form.get_by_label("Full name").fill(full_name)
        form.get_by_label("Role").select_option(role)
        if password:
            form.get_by_label("Password").fill(password)
        form.get_by_role("button", name="Create account").click()
        expect(page.get_by_text(f"Created {address} ({role}).")).to_be_visible()
        expect(page.locator(f"[data-email='{address}']")).to_be_visible()
        return address

    def opened_account(self, email):
        """The account of `email` (the admin's list, paged), once auth has opened it."""
        admin = self.stack.sign_in(*admin_credentials())

        def opened():
            status, body = self.stack.call("GET", "/accounts?limit=100", admin)
            cursor = True
            while status == 200 and cursor:
                found = [a for a in body["accounts"] if a["email"] == email]
                if found:
                    return found[0]
                cursor = body.get("next_cursor")
                if cursor:
                    status, body = self.stack.call("GET", f"/accounts?limit=100&cursor={urllib.parse.quote(cursor)}", admin)
            return None
        return eventually(60, f"the account of {email} opened by auth", opened)

    # --- the journeys

    def the_admin_creates_employees(self):
        page = self.page("admin")
        email, password = admin_credentials()
        self.sign_in_with_password(page, email, password)
        self.nav(page, "Accounts")
        form = page.locator("form", has=page.get_by_role("button", name="Create account"))

        def create(role, full_name, password=None):
            return self.create_in_the_browser(page, role, full_name, password)

        # The worker has no password: they sign in with mailed codes.
        self.people["worker"] = {"email": create("worker", "Kiwi Popug"), "name": "Kiwi Popug"}
        self.people["manager"] = {"email": create("manager", "Boss Popug", "boss-password-1"), "password": "boss-password-1"}
        # Rename, change the role of, and deactivate an account (never an assignable one, so
        # every task of the next journeys lands on the worker).
        temp = create("manager", "Temporary Popug")
        page.get_by_label(f"Name of {temp}", exact=True).fill("Renamed Popug")
        page.get_by_role("button", name=f"Rename {temp}").click()
        expect(page.get_by_test_id("admin-out")).to_contain_text(f"{temp}: renamed.")
        expect(page.get_by_label(f"Name of {temp}", exact=True)).to_have_value("Renamed Popug")
        page.get_by_label(f"Role of {temp}", exact=True).select_option("admin")
        page.get_by_role("button", name=f"Change the role of {temp}").click()
        expect(page.get_by_test_id("admin-out")).to_contain_text(f"{temp}: role changed.")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name=f"Deactivate {temp}").click()
        expect(page.get_by_test_id("admin-out")).to_contain_text(f"{temp}: deactivated.")
        row = page.locator("tr", has=page.locator(f"[data-email='{temp}']"))
        expect(row).to_contain_text("deactivated")
        # A bad address is the API's problem, shown readably.
        form.get_by_label("Email").fill("not-an-address")
        form.get_by_label("Full name").fill("Nobody")
        page.evaluate("document.querySelector('input[name=email]').type = 'text'")  # past the browser's own check
        form.get_by_role("button", name="Create account").click()
        expect(page.locator(".problem")).to_contain_text("HTTP 422")
        self.shot(page, "accounts")

        admin = self.stack.sign_in(email, password)
        accounts = self.stack.call("GET", "/accounts?limit=100", admin)[1]["accounts"]
        ids = {a["email"]: a["account_id"] for a in accounts}
        self.people["worker"]["id"] = ids[self.people["worker"]["email"]]
        return page

    def a_manager_creates_tasks_and_watches_the_shuffle(self):
        worker = self.people["worker"]
        eventually(60, "the task tracker knows the worker", lambda: worker["id"] in self.stack.pool())
        manager = self.people["manager"]
        page = self.page("manager")
        self.sign_in_with_password(page, manager["email"], manager["password"])
        expect(page.get_by_role("heading", level=1)).to_have_text("Tasks")
        form = page.locator("form", has=page.get_by_role("button", name="Create task"))
        titles = [f"Fix the nest {STAMP}", f"Paint the perch {STAMP}", f"Count the seeds {STAMP}"]
        for i, title in enumerate(titles):
            form.get_by_label("Title").fill(title)
            form.get_by_label("Jira id (optional)").fill(f"UBERPOP-{i + 1}" if i != 1 else "")
            form.get_by_label("Description (optional)").fill("made in the browser")
            form.get_by_role("button", name="Create task").click()
            expect(page.get_by_text(re.compile(f"Created .*{re.escape(title)}, assigned to account"))).to_be_visible()
        worker["tasks"] = titles
        # The jira id in the title is refused by the API (SPEC T2): a readable problem.
        form.get_by_label("Title").fill("[UBERPOP-9] Old style")
        form.get_by_role("button", name="Create task").click()
        expect(page.locator(".problem")).to_be_visible()
        expect(page.locator(".problem")).to_contain_text("HTTP 4")
        all_tasks = page.locator("section", has=page.get_by_role("heading", name="All tasks"))
        for title in titles:
            expect(all_tasks.get_by_text(title)).to_be_visible()
        # Newest first, each assignee by name (their id on hover).
        expect(all_tasks.locator("tbody tr").first).to_contain_text(titles[-1])
        expect(all_tasks.locator("[data-assignee]").first).to_have_attribute(
            "title", re.compile(r"^.+ \([0-9a-f-]{36}\)$"))
        self.shot(page, "tasks-created")

        page.get_by_role("button", name="Shuffle open tasks").click()
        status = page.get_by_test_id("shuffle-status")
        expect(status.locator("[data-status]")).to_be_visible()
        self.shot(page, "shuffle-started")
        expect(status.locator("[data-status='completed']")).to_be_visible(timeout=90_000)
        expect(status).to_contain_text(re.compile(r"Finished: (\d+) of \1 open tasks reassigned"))
        expect(status.locator("progress")).to_be_visible()
        for title in titles:
            expect(all_tasks.get_by_text(title)).to_be_visible()
        self.shot(page, "shuffle-finished")
        return page

    def a_worker_signs_in_with_a_mailed_code_and_completes_a_task(self):
        worker = self.people["worker"]
        page = self.page("worker")
        page.goto(self.stack.url + "/")
        form = page.locator("section", has=page.get_by_role("heading", name="With a code by mail"))
        form.get_by_label("Email").fill(worker["email"])
        before = len(self.stack.mail_to(worker["email"]))
        form.get_by_role("button", name="Mail me a code").click()
        expect(form.get_by_text("a code is on its way")).to_be_visible()
        form.get_by_label("Code from the mail (6 digits)").fill(self.mailed_code(worker["email"], before))
        self.shot(page, "code-entered")
        form.get_by_label("Code from the mail (6 digits)").press("Enter")
        expect(page.get_by_test_id("who")).to_contain_text(f"{worker['email']} (worker)")

        nav = page.get_by_role("navigation", name="Pages")
        expect(nav.get_by_role("link")).to_have_text(["Tasks", "My money", "My earnings", "My orders", "Notifications"])
        open_tasks = page.locator("section", has=page.get_by_role("heading", name="My open tasks"))
        for title in worker["tasks"]:
            expect(open_tasks.get_by_text(title)).to_be_visible()
        self.shot(page, "my-tasks")
        first = worker["tasks"][0]
        # By keyboard: Tab reaches the button, its focus is visible, Enter presses it.
        tab_to(page, open_tasks.get_by_role("button", name=re.compile(f"Complete .*{re.escape(first)}")))
        self.shot(page, "keyboard-focus")
        page.keyboard.press("Enter")
        expect(page.get_by_text(re.compile(f"Done: .*{re.escape(first)}"))).to_be_visible()
        done = page.locator("section", has=page.get_by_role("heading", name="My done tasks"))
        expect(done.get_by_text(first)).to_be_visible()
        expect(open_tasks.get_by_text(first)).to_have_count(0)
        worker["completed"] = first
        self.shot(page, "completed")

        # Money follows through the events: reload until the reward is in the audit log.
        self.nav(page, "My money")
        log = page.locator("section", has=page.get_by_role("heading", name="My audit log"))
        reward = log.get_by_text("Completion reward")
        deadline = time.monotonic() + 60
        while not shown_soon(reward) and time.monotonic() < deadline:
            page.reload()
        expect(reward).to_be_visible()
        expect(log.get_by_text("Assignment fee").first).to_be_visible()
        expect(page.get_by_test_id("balance")).to_have_text(re.compile(r"^-?\$[\d,]+\.\d\d$"))
        self.shot(page, "my-money")
        return page

    def a_worker_who_types_the_company_pages_address_sees_a_refusal(self):
        worker = self.people["worker"]
        page = self.page("refusal")
        asked = []
        page.on("request", lambda r: asked.append(r.url))
        # Signed in with a fresh code, then the address typed in.
        self.sign_in_with_a_code(page, worker["email"])
        expect(page.get_by_test_id("who")).to_contain_text("(worker)")

        for address, page_name in [("/#/company", "Company accounting"), ("/#/admin", "Accounts"), ("/#/analytics", "Analytics")]:
            asked.clear()
            page.goto(self.stack.url + address)
            expect(page.get_by_role("heading", level=1)).to_have_text("Not for your role")
            expect(page.locator(".refusal")).to_contain_text(f"{page_name} is for")
            expect(page.locator(".refusal")).to_contain_text("a worker")
            assert not [u for u in asked if "/accounting/" in u or "/accounts" in u or "/analytics/" in u], asked
            self.shot(page, address.strip("/#"))
        # A reload restores the session from the tab's refresh token, and still refuses.
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("Not for your role")
        expect(page.get_by_test_id("earnings-today")).to_have_count(0)
        # The API refuses the same: a worker's token is forbidden the company's earnings.
        worker_token = self.stack.call("POST", "/auth/sign-in/code", body={"email": worker["email"], "code": "000000"})
        assert worker_token[0] in (401, 403, 429), worker_token  # a wrong code never signs in

        # Signing out revokes the refresh token: it refreshes nothing afterwards.
        refresh_token = page.evaluate("sessionStorage.getItem('ates.refresh_token')")
        assert refresh_token, "the tab keeps its refresh token"
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in to aTES")).to_be_visible()
        expect(page.get_by_text("You are signed out.")).to_be_visible()
        assert page.evaluate("sessionStorage.getItem('ates.refresh_token')") is None
        status, _ = self.stack.call("POST", "/auth/refresh", body={"refresh_token": refresh_token})
        assert status == 401, f"a revoked refresh token refreshed: {status}"
        self.shot(page, "signed-out")
        return page

    def an_accountant_sees_the_company_earnings(self):
        email, password = admin_credentials()
        admin = self.stack.sign_in(email, password)
        address = f"accountant-{STAMP}@popug.test"
        status, body = self.stack.call("POST", "/accounts", admin, {
            "email": address, "full_name": "Abacus Popug", "role": "accountant", "password": "abacus-password-1"})
        assert status == 201, body
        # Accounting has priced the tasks, charged the fees and paid the reward.
        earnings = eventually(60, "fees and the reward in today's earnings", lambda: (
            lambda e: e if e["today"]["fees_cents"] > 0 and e["today"]["rewards_cents"] > 0 else None)(
            self.stack.call("GET", "/accounting/earnings", admin)[1]))
        # The company's day is folded from the ledger in batches (up to 5 s apart): wait until
        # it holds still, so the page shows what was read.
        def settled():
            before = self.stack.call("GET", "/accounting/earnings", admin)[1]["today"]
            time.sleep(6)
            after = self.stack.call("GET", "/accounting/earnings", admin)[1]["today"]
            return after if after == before else None
        today = eventually(60, "today's earnings hold still", settled)

        page = self.page("accountant")
        page.clock.install()  # the page's timers, so the token's refresh can be brought forward
        self.sign_in_with_password(page, address, "abacus-password-1")
        nav = page.get_by_role("navigation", name="Pages")
        expect(nav.get_by_role("link")).to_have_text(["Tasks", "My money", "Company accounting", "Invoices", "Statements", "Revenue", "Notifications"])
        self.nav(page, "Company accounting")
        expect(page.get_by_test_id("earnings-today")).to_have_text(dollars(today["earnings_cents"]))
        chart = page.locator("svg.chart")
        expect(chart).to_be_visible()
        expect(chart.locator(f"rect[data-date='{today['date']}']")).to_have_count(1)
        expect(page.locator("figure.earnings table")).to_contain_text(dollars(today["fees_cents"]))
        self.shot(page, "company-earnings")

        page.get_by_role("button", name="Show the close").click()
        expect(page.get_by_test_id("close-status")).to_have_text(re.compile("pending|running|completed|stalled"))
        accounts = page.locator("section", has=page.get_by_role("heading", name="Accounts", exact=True))
        accounts.get_by_role("link", name="Kiwi Popug").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Kiwi Popug")
        expect(page.get_by_text("Completion reward")).to_be_visible()
        self.shot(page, "an-account")

        # The access token (15 minutes) is refreshed a minute before it expires, without a sound.
        first = page.evaluate("sessionStorage.getItem('ates.refresh_token')")
        with page.expect_response("**/auth/refresh") as refreshed:
            page.clock.run_for("14:05")
        assert refreshed.value.status == 200, refreshed.value.status
        # The app stores the new pair once it has read the answer: a moment after the response.
        eventually(5, "the tab keeps the new refresh token", lambda: page.evaluate(
            "sessionStorage.getItem('ates.refresh_token')") not in (None, first))
        expect(page.get_by_test_id("who")).to_contain_text(address)

        # A 401 that a refresh cannot cure (here: every answer is 401) leads back to sign-in.
        page.route("**/accounting/me*", lambda route: route.fulfill(
            status=401, content_type="application/json", body='{"message":"Unauthorized"}'))
        self.nav_only(page, "My money")
        expect(page.get_by_role("heading", name="Sign in to aTES")).to_be_visible()
        expect(page.get_by_text("Your session has ended")).to_be_visible()
        self.shot(page, "session-ended")
        return page

    def an_admin_sees_analytics(self):
        email, password = admin_credentials()
        admin = self.stack.sign_in(email, password)
        summary = eventually(60, "the analytics summary", lambda: (
            lambda r: r[1] if r[0] == 200 else None)(self.stack.call("GET", "/analytics/summary", admin)))
        page = self.page("analytics")
        self.sign_in_with_password(page, email, password)
        self.nav(page, "Analytics")
        expect(page.get_by_test_id("analytics-earnings-today")).to_be_visible()
        expect(page.get_by_test_id("negative-balances")).to_have_text(re.compile(r"^\d+$"))
        expect(page.get_by_test_id("most-expensive")).to_be_visible()
        expect(page.locator("svg.chart")).to_be_visible()
        assert summary["business_date"] in page.locator("main").inner_text()
        self.shot(page, "analytics")
        return page

    def a_failed_completion_is_shown_and_the_button_works_again(self):
        worker = self.people["worker"]
        page = self.page("failed-completion")
        self.sign_in_with_a_code(page, worker["email"])
        open_tasks = page.locator("section", has=page.get_by_role("heading", name="My open tasks"))
        title = worker["tasks"][1]
        button = open_tasks.get_by_role("button", name=re.compile(f"Complete .*{re.escape(title)}"))
        expect(button).to_be_enabled()
        # The API refuses once (as it would a task someone else completed meanwhile).
        refused = {"count": 0}

        def refuse(route):
            refused["count"] += 1
            route.fulfill(status=409, content_type="application/problem+json", body=json.dumps({
                "type": "about:blank", "title": "Conflict", "status": 409, "detail": "Refused by the test"}))

        page.route("**/tasks/*/complete", refuse)
        button.click()
        problem = page.locator(".problem")
        expect(problem).to_contain_text("Conflict (HTTP 409)")
        expect(problem).to_contain_text("Refused by the test")
        expect(button).to_be_enabled()
        assert refused["count"] == 1, refused
        assert not page.errors, f"errors in the page: {page.errors}"
        self.shot(page, "refused")
        # Pressed again, it completes the task.
        page.unroute("**/tasks/*/complete")
        button.click()
        expect(page.get_by_text(re.compile(f"Done: .*{re.escape(title)}"))).to_be_visible()
        expect(page.locator(".problem")).to_have_count(0)
        done = page.locator("section", has=page.get_by_role("heading", name="My done tasks"))
        expect(done.get_by_text(title)).to_be_visible()
        self.shot(page, "completed")
        return page

    def the_skip_link_moves_to_the_page_and_stays_on_it(self):
        email, password = admin_credentials()
        page = self.page("skip-link")
        self.sign_in_with_password(page, email, password)
        self.nav(page, "Company accounting")
        address = page.url
        skip = page.get_by_role("link", name="Skip to the page")
        # By keyboard, back from the page's heading (where a navigation leaves the focus).
        tab_to(page, skip, presses=20, key="Shift+Tab")
        assert skip.evaluate("e => e.getBoundingClientRect().left >= 0"), "the focused skip link is off the screen"
        page.keyboard.press("Enter")
        # Still the same page, at the same address, with the focus at its start.
        expect(page.get_by_role("heading", level=1)).to_have_text("Company accounting")
        assert page.url == address, f"the skip link moved the page to {page.url}"
        assert page.evaluate("!!document.activeElement.closest('main')"), \
            f"the focus is not in the page: {page.evaluate('document.activeElement.outerHTML.slice(0, 120)')}"
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('main')"), "Tab after the skip link left the page"
        self.shot(page, "skipped")
        # Signed out, on the sign-in page: the same.
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in to aTES")).to_be_visible()
        address = page.url
        tab_to(page, skip, presses=20, key="Shift+Tab")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Sign in to aTES")).to_be_visible()
        assert page.url == address, f"the skip link moved the page to {page.url}"
        return page

    def pages_with_figures_open_on_a_default_range(self):
        email, password = admin_credentials()
        admin = self.stack.sign_in(email, password)
        today = self.stack.call("GET", "/accounting/earnings", admin)[1]["today"]["date"]
        first = (date.fromisoformat(today) - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        page = self.page("default-range")
        self.sign_in_with_password(page, email, password)
        for name, form_name in [("Company accounting", "Top management's earnings per day: range"),
                                ("Analytics", "Earnings per day (analytics): range")]:
            self.nav(page, name)
            form = page.get_by_role("form", name=form_name)
            expect(form.get_by_label("From")).to_have_value(first)
            expect(form.get_by_label("To")).to_have_value(today)
            chart = page.locator("svg.chart")
            expect(chart.locator("rect[data-date]")).to_have_count(DEFAULT_DAYS)
            expect(chart.locator(f"rect[data-date='{first}']")).to_have_count(1)
            expect(chart.locator(f"rect[data-date='{today}']")).to_have_count(1)
            expect(page.locator("figure.earnings figcaption")).to_contain_text(f"{first} to {today}")
            if name == "Company accounting":
                # The close of the last day that can have closed (yesterday), without asking.
                yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
                close = page.locator("section", has=page.get_by_role("heading", name="The close of a day"))
                expect(close.get_by_label("Business day")).to_have_value(yesterday)
                expect(close.locator("caption")).to_have_text(f"The close of {yesterday}")
                expect(close.get_by_test_id("close-status")).to_have_text(re.compile("^(pending|running|completed|stalled)$"))
            self.shot(page, name.lower().replace(" ", "-"))
        return page

    def long_names_do_not_widen_the_tables(self):
        email, password = admin_credentials()
        admin = self.stack.sign_in(email, password)
        # Fuzzed data: a name, an address and a title as long as the API allows, without a space.
        long_name = ("Popugaevich" * 20)[:200]
        long_email = f"{'l' * 50}{STAMP[-14:]}@{'d' * 63}.{'e' * 63}.test"
        long_title = (f"Reupholster{STAMP}" * 10)[:200]
        status, body = self.stack.call("POST", "/accounts", admin, {
            "email": long_email, "full_name": long_name, "role": "manager", "password": "long-password-1"})
        assert status == 201, body
        status, task = self.stack.call("POST", "/tasks", admin, {"title": long_title, "description": long_title * 2})
        assert status in (200, 201), task
        eventually(60, "accounting knows the long-named account", lambda: any(
            a.get("full_name") == long_name for a in self.stack.call("GET", "/accounting/accounts?limit=100", admin)[1]["accounts"]))

        page = self.page("long-names")
        self.sign_in_with_password(page, email, password)

        self.nav(page, "Company accounting")
        accounts = page.locator("section", has=page.get_by_role("heading", name="Accounts", exact=True))
        link = accounts.get_by_role("link", name=long_name)
        expect(link).to_be_visible()
        self.no_horizontal_overflow(page, "Company accounting")
        expect(link).to_have_attribute("title", long_name)
        self.shot(page, "company")

        self.nav(page, "Accounts")
        address = page.locator(f"[data-email='{long_email}']")
        expect(address).to_be_visible()
        self.no_horizontal_overflow(page, "Accounts")
        expect(address).to_have_attribute("title", long_email)
        expect(page.get_by_label(f"Name of {long_email}", exact=True)).to_have_attribute("title", long_name)
        self.shot(page, "accounts")

        self.nav(page, "Tasks")
        all_tasks = page.locator("section", has=page.get_by_role("heading", name="All tasks"))
        named = all_tasks.locator(f"[data-task-id='{task['task_id']}']")
        expect(named).to_be_visible()
        self.no_horizontal_overflow(page, "Tasks")
        expect(named).to_have_attribute("title", long_title)
        self.shot(page, "tasks")

        # The assignee's audit log names the task once accounting has charged its fee.
        page.goto(f"{self.stack.url}/#/company/accounts/{task['assignee_id']}")
        log = page.locator("section", has=page.get_by_role("heading", name="Audit log"))
        line = log.locator(f"[title='{long_title}']")
        deadline = time.monotonic() + 60
        while not shown_soon(line) and time.monotonic() < deadline:
            page.reload()
        expect(line).to_be_visible()
        self.no_horizontal_overflow(page, "An account's audit log")
        self.shot(page, "audit-log")
        return page


    def a_worker_applies_takes_the_test_and_is_hired(self):
        manager = self.hiring_manager()
        email = f"applicant-worker-{STAMP}@popug.test"
        name = "Pip Applicant"  # no digits: the sign-in mail greets by name, and a code is six of them
        applicant = self.page("hiring-worker-applicant")
        mailed = self.apply_in_the_browser(applicant, "worker", email, name)
        self.shot(applicant, "applied")

        # The manager keeps the test bank: two questions (one revised), a test, a profile.
        page = self.page("hiring-bank")
        self.sign_in_with_password(page, manager["email"], manager["password"])
        self.nav(page, "Test bank")
        # A bank with no profile says so (only this journey adds them).
        expect(page.get_by_text("No profiles yet: a profile is what an applicant is given.")).to_be_visible()
        parrot, seeds = f"Which of these is a parrot? {STAMP}", f"Which seeds do popugs like? {STAMP}"
        self.add_question(page, parrot, [("Kiwi the popug", 5), ("A teapot", 0)])
        self.add_question(page, seeds, [("Sunflower", 3), ("Pumpkin", 2), ("Gravel", 0)])
        questions = page.locator("section", has=page.get_by_role("heading", name="Questions"))
        questions.get_by_role("button", name=f"Edit {parrot}").click()
        form = page.get_by_role("form", name="Revise the question")
        expect(form.get_by_label("Question")).to_have_value(parrot)
        expect(form.get_by_label("Option 1", exact=True)).to_have_value("Kiwi the popug")
        parrot = f"Which of these is a popug? {STAMP}"
        form.get_by_label("Question").fill(parrot)
        form.get_by_role("button", name="Save revision 2").click()
        expect(page.get_by_text("Saved revision 2 of the question.")).to_be_visible()
        expect(questions.locator("table").get_by_text(parrot, exact=True)).to_be_visible()
        # A throwaway question, retired: marked so, and no longer offered to a test.
        spare = f"Spare question {STAMP}"
        self.add_question(page, spare, [("Yes", 1), ("No", 0)])
        page.once("dialog", lambda dialog: dialog.accept())
        questions.get_by_role("button", name=f"Retire {spare}").click()
        expect(page.get_by_text("Retired the question.")).to_be_visible()
        expect(questions.locator("tr", has=page.get_by_text(spare, exact=True))).to_contain_text("retired")
        tests = page.locator("section", has=page.get_by_role("heading", name="Tests"))
        form = page.get_by_role("form", name="Add a test")
        expect(form.get_by_label(spare)).to_have_count(0)
        title = f"Popug basics {STAMP}"
        form.get_by_label("Title").fill(title)
        form.get_by_label(parrot).check()
        form.get_by_label(seeds).check()
        form.get_by_role("button", name="Add the test").click()
        expect(page.get_by_text("Added the test.")).to_be_visible()
        expect(tests.locator("table").get_by_text(title, exact=True)).to_be_visible()
        # Revising a test starts from what it holds: both questions ticked.
        tests.get_by_role("button", name=f"Edit {title}").click()
        form = page.get_by_role("form", name="Revise the test")
        expect(form.get_by_label(parrot)).to_be_checked()
        expect(form.get_by_label(seeds)).to_be_checked()
        title = f"Popug basics, revised {STAMP}"
        form.get_by_label("Title").fill(title)
        form.get_by_role("button", name="Save revision 2").click()
        expect(page.get_by_text("Saved revision 2 of the test.")).to_be_visible()
        expect(tests.locator("tr", has=page.get_by_text(title, exact=True)).locator("ol li")).to_have_count(2)
        profiles = page.locator("section", has=page.get_by_role("heading", name="Profiles"))
        form = page.get_by_role("form", name="Add a profile")
        profile = f"Junior popug {STAMP}"
        form.get_by_label("Name").fill(profile)
        form.get_by_label(title).check()
        # A pass mark above what the test can score: the API's problem, shown readably.
        form.get_by_label(re.compile("^Pass mark")).fill("99")
        form.get_by_role("button", name="Add the profile").click()
        expect(profiles.locator(".problem")).to_contain_text("HTTP 422")
        form.get_by_label(re.compile("^Pass mark")).fill("6")
        form.get_by_role("button", name="Add the profile").click()
        expect(page.get_by_text("Added the profile.")).to_be_visible()
        row = profiles.locator("tr", has=page.get_by_text(profile, exact=True))
        expect(row).to_contain_text("6 of 10")
        self.no_horizontal_overflow(page, "Test bank")
        self.shot(page, "bank")

        # The manager finds the application and gives the test.
        self.give_the_test(page, name, f"{profile} (pass 6 of 10, 7 days)")
        self.shot(page, "test-given")

        # The applicant follows the mailed link and answers: the token leaves the address at
        # once, and only ever travels in the Application-Token header.
        asked = []
        applicant.on("request", lambda r: asked.append((r.url, r.headers.get("application-token"))))
        self.take_the_test(applicant, mailed["link"], 2, ["Kiwi the popug", "Sunflower", "Pumpkin"], "10 of 10: passed")
        assert mailed["token"] not in applicant.url, applicant.url
        assert applicant.evaluate(f"sessionStorage.getItem('ates.application.{mailed['id']}')") == mailed["token"]
        api = [(url, token) for url, token in asked if "/hiring/" in url]
        assert api and all(token == mailed["token"] and mailed["token"] not in url for url, token in api), api
        applicant.reload()  # the token is the tab's: a reload still opens the application
        expect(applicant.get_by_test_id("application-status")).to_have_text("check")
        self.shot(applicant, "submitted")

        # The manager sees the scored paper and accepts, with skills and a level.
        page.reload()
        expect(page.get_by_test_id("review-status")).to_have_text("check")
        expect(page.get_by_test_id("review-score")).to_have_text("10 of 10, passed")
        expect(page.locator("ol.paper li[data-chosen='true']")).to_have_count(3)
        expect(page.locator("ol.paper")).to_contain_text(parrot)
        self.accept_in_the_browser(page, "window-cleaning, perch-painting", "middle")
        self.shot(page, "accepted")
        token = self.stack.sign_in(manager["email"], manager["password"])
        review = self.stack.call("GET", f"/hiring/applications/{mailed['id']}/review", token)[1]
        assert review["status"] == "accepted", review
        applicant.reload()
        expect(applicant.get_by_test_id("application-status")).to_have_text("accepted")

        # The hired worker's skills, changed on their application's page (Worker.ProfileSet).
        skills = page.get_by_role("form", name="Skills and level")
        expect(skills.get_by_label(re.compile("^Skills of the worker"))).to_have_value(
            "perch-painting, window-cleaning")
        skills.get_by_label(re.compile("^Skills of the worker")).fill("window-cleaning, nest-sweeping")
        skills.get_by_label("Level of the worker").select_option("senior")
        skills.get_by_role("button", name="Save skills").click()
        expect(page.get_by_test_id("skills-out")).to_contain_text(
            "Saved: nest-sweeping, window-cleaning (senior), revision 2.")
        profile = self.stack.call("GET", f"/hiring/workers/{review['account_id']}/profile", token)[1]
        assert (profile["skills"], profile["level"]) == (["nest-sweeping", "window-cleaning"], "senior"), profile
        self.shot(page, "skills")
        return page

    def a_client_applies_is_accepted_and_sees_no_tracker(self):
        manager = self.hiring_manager()
        email = f"applicant-client-{STAMP}@popug.test"
        name = "Cora Client"  # no digits: the sign-in mail greets by name, and a code is six of them
        applicant = self.page("hiring-client-applicant")
        mailed = self.apply_in_the_browser(applicant, "client", email, name)
        applicant.goto(mailed["link"])
        expect(applicant.get_by_test_id("application-status")).to_have_text("new")
        expect(applicant.get_by_text("We mail you once it is decided.")).to_be_visible()

        page = self.page("hiring-client")
        self.sign_in_with_password(page, manager["email"], manager["password"])
        self.open_application(page, "client", "new", name)
        expect(page.get_by_role("form", name="Give a test")).to_have_count(0)
        expect(page.get_by_role("form", name="Accept").get_by_label(re.compile("^Skills"))).to_have_count(0)
        self.accept_in_the_browser(page)
        self.shot(page, "accepted")

        # Auth opens the account from Application.Accepted, in its own time.
        account = self.opened_account(email)
        assert account["role"] == "client", account

        client = self.page("client")
        asked = []
        client.on("request", lambda r: asked.append(r.url))
        self.sign_in_with_a_code(client, email)
        expect(client.get_by_test_id("who")).to_contain_text(f"{email} (client)")
        expect(client.get_by_role("heading", level=1)).to_have_text("My account")
        expect(client.get_by_test_id("my-role")).to_have_text("client")
        expect(client.get_by_test_id("my-name")).to_have_text(name)
        nav = client.get_by_role("navigation", name="Pages")
        expect(nav.get_by_role("link")).to_have_text(["Order a service", "My orders", "My invoices", "Notifications", "My account"])
        expect(client.get_by_role("button", name="Sign out")).to_be_visible()
        self.shot(client, "my-account")
        # The card on file (M7): a token the acquirer refuses is named and nothing kept; a test
        # Visa is kept, shown masked, and forgotten again.
        expect(client.get_by_test_id("card-on-file")).to_have_text("No card on file: invoices wait for one.")
        self.keep_a_card(client, "tok_stolen")
        expect(client.get_by_role("alert")).to_contain_text("tok_stolen")
        expect(client.get_by_test_id("card-on-file")).to_have_text("No card on file: invoices wait for one.")
        self.keep_a_card(client, "tok_visa")
        expect(client.get_by_test_id("card-on-file")).to_have_text("visa ending 4242")
        self.shot(client, "my-card")
        client.get_by_role("button", name="Forget the card").click()
        expect(client.get_by_test_id("card-on-file")).to_have_text("No card on file: invoices wait for one.")
        for address, page_name in [("/#/tasks", "Tasks"), ("/#/accounting", "My money"), ("/#/company", "Company accounting"),
                                   ("/#/analytics", "Analytics"), ("/#/admin", "Accounts"), ("/#/hiring", "Applications")]:
            client.goto(self.stack.url + address)
            expect(client.get_by_role("heading", level=1)).to_have_text("Not for your role")
            expect(client.locator(".refusal")).to_contain_text(f"{page_name} is for")
            expect(client.locator(".refusal")).to_contain_text("a client")
        money = [u for u in asked if re.search(r"/(tasks|accounting|analytics|accounts|notifications|hiring)(/|\?|$)", u.split("#")[0])]
        assert not money, f"a client's pages asked the tracker or money APIs: {money}"
        self.shot(client, "refused")
        # Their own messages: the welcome notifications mailed them, kept in their history.
        client.goto(self.stack.url + "/#/notifications")
        expect(client.get_by_role("heading", level=1)).to_have_text("Notifications")
        mine = client.get_by_role("table", name="Sent to me, newest first")

        def welcomed():
            client.reload()
            expect(client.get_by_role("heading", level=1)).to_have_text("Notifications")
            client.wait_for_load_state("networkidle")
            return "Welcome to UberPopug" in mine.inner_text() or None
        eventually(30, "the welcome in the client's own history", welcomed)
        expect(mine).to_contain_text("application accepted")
        expect(mine).to_contain_text(f"Welcome to UberPopug, {name}")
        self.shot(client, "my-messages")
        applicant.reload()
        expect(applicant.get_by_test_id("application-status")).to_have_text("accepted")
        return client

    def a_manager_application_is_declined_by_an_admin(self):
        manager = self.hiring_manager()
        email = f"applicant-manager-{STAMP}@popug.test"
        # As long a name as the API takes, without a space: it must not widen a table.
        name = (f"Maximilian{STAMP}" * 10)[:200]
        applicant = self.page("hiring-manager-applicant")
        mailed = self.apply_in_the_browser(applicant, "manager", email, name)

        # A manager may read it, but only admins decide manager applications.
        page = self.page("hiring-manager-review")
        self.sign_in_with_password(page, manager["email"], manager["password"])
        self.open_application(page, "manager", "new", name)
        expect(page.get_by_text("Only admins decide manager applications.")).to_be_visible()
        expect(page.get_by_role("button", name="Accept")).to_have_count(0)
        expect(page.get_by_role("button", name="Decline")).to_have_count(0)
        self.no_horizontal_overflow(page, "An application")

        # Submission dates go to the API only when set: the list opens on all dates.
        asked = []
        page.on("request", lambda r: asked.append(r.url) if "/hiring/applications?" in r.url else None)
        self.nav(page, "Applications")
        expect(page.locator("caption")).to_contain_text("all dates")
        form = page.get_by_role("form", name="Filter applications")
        form.get_by_label("Kind").select_option("manager")
        form.get_by_role("button", name="Show").click()
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
        self.no_horizontal_overflow(page, "Applications")
        expect(page.get_by_role("link", name=name, exact=True)).to_have_attribute("title", name)
        assert asked and not [u for u in asked if "from=" in u or "to=" in u], asked
        day = date.today().isoformat()
        form = page.get_by_role("form", name="Filter applications")
        form.get_by_label("Submitted from").fill(day)
        form.get_by_label("Submitted to").fill(day)
        form.get_by_role("button", name="Show").click()
        expect(page.locator("caption")).to_contain_text(f"submitted {day} to {day}")
        # Either the API takes the dates (and lists today's application) or says why not.
        expect(page.get_by_role("link", name=name, exact=True).or_(page.locator(".problem"))).to_be_visible()
        assert [u for u in asked if f"from={day}" in u and f"to={day}" in u], asked
        self.shot(page, "dated")

        admin = self.page("hiring-admin")
        admin_email, password = admin_credentials()
        self.sign_in_with_password(admin, admin_email, password)
        self.open_application(admin, "manager", "new", name)
        expect(admin.get_by_text("Only admins decide manager applications.")).to_have_count(0)
        decline = admin.get_by_role("form", name="Decline")
        reason = f"We need a manager with a longer beak {STAMP}"
        # A reason of spaces only passes the browser's check but not the API's: its problem shows.
        decline.get_by_label(re.compile("^Reason")).fill("   ")
        decline.get_by_role("button", name="Decline").click()
        expect(admin.get_by_test_id("review-out").locator(".problem")).to_contain_text("HTTP 422")
        expect(admin.get_by_test_id("review-status")).to_have_text("new")
        decline.get_by_label(re.compile("^Reason")).fill(reason)
        decline.get_by_role("button", name="Decline").click()
        expect(admin.get_by_test_id("review-status")).to_have_text("declined")
        expect(admin.get_by_test_id("decline-reason")).to_have_text(reason)
        expect(admin.get_by_role("button", name="Decline")).to_have_count(0)
        self.shot(admin, "declined")
        # Decided, it leaves the new ones: the list says it has none rather than showing nothing.
        self.nav(admin, "Applications")
        form = admin.get_by_role("form", name="Filter applications")
        form.get_by_label("Kind").select_option("manager")
        form.get_by_role("button", name="Show").click()
        expect(admin.get_by_text("No manager applications in new.")).to_be_visible()
        applicant.goto(mailed["link"])
        expect(applicant.get_by_test_id("application-status")).to_have_text("declined")
        # A link with another token opens nothing, and says what to do rather than only "404".
        applicant.goto(mailed["link"].replace(mailed["token"], "not-the-token"))
        expect(applicant.locator(".problem")).to_contain_text("HTTP 404")
        expect(applicant.get_by_text("This link opens no application.")).to_be_visible()
        expect(applicant.get_by_test_id("application-status")).to_have_count(0)
        return admin

    # --- the marketplace (SPEC M2 to M5)

    def market_account(self, role, name):
        """An account of `role` with a password, made by the admin through the API (the
        marketplace's journeys stand alone)."""
        email, password = admin_credentials()
        admin = self.stack.sign_in(email, password)
        address = f"market-{role}-{STAMP}-{uuid.uuid4().hex[:8]}@popug.test"
        status, body = self.stack.call("POST", "/accounts", admin, {
            "email": address, "full_name": name, "role": role, "password": "market-password-1"})
        assert status == 201, body
        return {"email": address, "password": "market-password-1", "id": body["account_id"], "name": name}

    def market_worker(self, skill, level):
        """A worker with `skill` at `level`: auth's account, and hiring's Worker.ProfileSet on the
        bus; once matching may choose them and the calculator may price them."""
        worker = self.market_account("worker", "Wren Worker")
        self.stack.publish("hiring", "Worker.ProfileSet", {
            "account_id": worker["id"], "skills": [skill], "level": level, "revision": 1,
            "set_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
        self.matchable(worker["id"], skill)
        return worker

    def matchable(self, worker_id, skill):
        """Waits until matching may choose the worker for `skill` and the calculator may price them."""
        eventually(60, "matching and the calculator know the worker", lambda: any(
            i.get("worker_id", {}).get("S") == worker_id for i in self.stack.items("MatchingTable", f"SKILL#{skill}"))
            and self.stack.items("CalculatorTable", f"WORKER#{worker_id}"))

    def reload_until(self, page, locator, seconds=90):
        """Reloads the page until `locator` shows (events reach the contexts in their own time)."""
        deadline = time.monotonic() + seconds
        while not shown_soon(locator) and time.monotonic() < deadline:
            page.reload()
        expect(locator).to_be_visible()

    def a_client_orders_a_service_that_is_matched_supplied_and_pending(self):
        skill = f"perch-polish-{STAMP}"
        manager = self.market_account("manager", "Mona Manager")
        client = self.market_account("client", "Cleo Client")
        worker = self.market_worker(skill, "senior")
        name = f"Perch polish {STAMP}"

        # A manager adds the service type, and changes its description (a second revision).
        boss = self.page("market-manager")
        self.sign_in_with_password(boss, manager["email"], manager["password"])
        self.nav(boss, "Service types")
        form = boss.get_by_role("form", name="Add a service type")
        form.get_by_label("Name", exact=True).fill(name)
        form.get_by_label("Description (optional)").fill("Every perch polished")
        form.get_by_label(re.compile("^Base price")).fill("123.45")
        form.get_by_label(re.compile("^Required skill")).fill(skill)
        form.get_by_label(re.compile("^Duration")).fill("90")
        form.get_by_label("Supply 1: item").fill("polishing cloth")
        form.get_by_label("Supply 1: quantity").fill("2")
        form.get_by_role("button", name="Add the service type").click()
        expect(boss.get_by_test_id("types-out")).to_contain_text(f"Added {name} ($123.45, skill {skill}).")
        row = boss.locator("tr", has=boss.get_by_text(name, exact=True))
        expect(row).to_contain_text("$123.45")
        expect(row).to_contain_text("polishing cloth × 2")
        row.get_by_role("button", name=f"Edit {name}").click()
        edit = boss.get_by_role("form", name=f"Edit {name}")
        expect(edit.get_by_label(re.compile("^Base price"))).to_have_value("123.45")
        edit.get_by_label("Description (optional)").fill("Every perch polished until it shines")
        edit.get_by_role("button", name="Save the changes").click()
        expect(boss.get_by_test_id("types-out")).to_contain_text(f"Saved {name}: revision 2 (description changed).")
        expect(row).to_contain_text("until it shines")
        self.no_horizontal_overflow(boss, "Service types")
        self.shot(boss, "service-types")

        # The client orders it, with its estimate in sight.
        page = self.page("market-client")
        self.sign_in_with_password(page, client["email"], client["password"])
        nav = page.get_by_role("navigation", name="Pages")
        expect(nav.get_by_role("link")).to_have_text(["Order a service", "My orders", "My invoices", "Notifications", "My account"])
        self.nav(page, "Order a service")
        page.get_by_label(re.compile("^Service")).select_option(label=name)
        expect(page.get_by_test_id("estimate")).to_have_text("$123.45")
        page.get_by_label(re.compile("^What to do")).fill("The three perches by the window")
        page.get_by_label(re.compile("^Address")).fill("7 Perch Street")
        slot = (datetime.now() + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
        page.get_by_label(re.compile("^Start of the slot")).fill(slot.strftime("%Y-%m-%dT%H:%M"))
        self.shot(page, "order-form")
        # The first answer is lost on its way back; pressed again, the same key orders once.
        page.route("**/orders", lambda route: (route.fetch(), route.abort()), times=1)
        page.get_by_role("button", name="Order", exact=True).click()
        expect(page.get_by_test_id("order-form-out").locator(".problem")).to_contain_text("cannot be reached")
        page.get_by_role("button", name="Order", exact=True).click()
        expect(page.get_by_test_id("order-form-out")).to_contain_text(f"Ordered {name}")
        follow = page.get_by_role("link", name="Follow the order")
        order_id = follow.get_attribute("data-order-id")
        token = self.stack.sign_in(client["email"], client["password"])
        mine = self.stack.call("GET", "/orders/mine", token)[1]["orders"]
        assert [o["order_id"] for o in mine] == [order_id], f"one order, whatever the retries: {mine}"
        follow.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(name)

        # Rated, matched to the one worker with the skill, priced at a senior's 120 %: it waits
        # for its kit.
        self.reload_until(page, page.locator("ol.progress li[data-step='valued'][data-state='done']"))
        expect(page.get_by_test_id("waiting-for")).to_have_text("waiting for supplied")
        expect(page.locator("ol.progress li[data-step='supplied']")).to_have_attribute("data-state", "waiting")
        expect(page.get_by_test_id("order-value")).to_contain_text(dollars(12345 * 120 // 100))
        self.shot(page, "valued")

        # Managers see it among every order (and among those at its stage), and why matching
        # chose its executor.
        self.nav(boss, "Orders")
        expect(boss.locator(f"a[data-order-id='{order_id}']")).to_be_visible()
        filters = boss.get_by_role("form", name="Filter orders")
        filters.get_by_label("Stage").select_option("rated")
        filters.get_by_role("button", name="Show").click()
        expect(boss.locator("caption")).to_contain_text("Orders in rated, all dates")
        boss.locator(f"a[data-order-id='{order_id}']").click()
        expect(boss.get_by_role("heading", level=1)).to_have_text(name)
        expect(boss.get_by_test_id("matching-status")).to_have_attribute("data-status", "matched")
        expect(boss.locator(f"tr[data-worker-id='{worker['id']}']")).to_contain_text("chosen")
        self.shot(boss, "order-matching")

        # The supplier delivers the kit (locally after 2 seconds); the manager hands it out.
        self.nav(boss, "Kits")
        kit = boss.locator("tr", has=boss.locator(f"[data-order-id='{order_id}']"))
        issue = kit.get_by_role("button", name=re.compile("^Issue the kit of order"))
        self.reload_until(boss, issue)
        expect(kit).to_contain_text("polishing cloth × 2")
        expect(kit).to_contain_text("fortune cookie × 1")
        expect(issue).to_have_text("Issue to executor")
        self.shot(boss, "kits")
        issue.click()
        expect(boss.get_by_test_id("kits-out")).to_contain_text("Issued the kit of order")
        expect(kit).to_have_count(0)
        self.nav(boss, "Supplies audit")
        entry = boss.locator("tr", has=boss.locator(f"[data-order-id='{order_id}']"))
        expect(entry).to_contain_text("issued")
        expect(entry).to_contain_text("polishing cloth × 2")
        self.shot(boss, "supplies-audit")

        # The join: the client's order is pending, its whole history on its page.
        self.reload_until(page, page.locator("ol.progress li[data-step='pending'][data-state='done']"))
        expect(page.get_by_test_id("waiting-for")).to_have_text("waiting for nothing")
        steps = page.locator("tr[data-transition]")
        expect(steps).to_have_count(6)
        assert [steps.nth(i).get_attribute("data-transition") for i in range(6)] == \
            ["create", "rate", "match", "value", "supply", "join"]
        self.no_horizontal_overflow(page, "An order")
        self.shot(page, "pending")
        self.nav(page, "My orders")
        mine = page.locator("tr", has=page.locator(f"[data-order-id='{order_id}']"))
        expect(mine.locator("li[data-step='pending']")).to_have_attribute("data-state", "done")
        expect(mine.get_by_role("button", name=re.compile("^Cancel the order"))).to_be_visible()
        self.shot(page, "my-orders")

        # The worker sees what to do, where and when.
        executor = self.page("market-worker")
        self.sign_in_with_password(executor, worker["email"], worker["password"])
        nav = executor.get_by_role("navigation", name="Pages")
        expect(nav.get_by_role("link")).to_have_text(["Tasks", "My money", "My earnings", "My orders", "Notifications"])
        self.nav(executor, "My orders")
        theirs = executor.locator("tr", has=executor.locator(f"[data-order-id='{order_id}']"))
        expect(theirs).to_contain_text("7 Perch Street")
        expect(theirs).to_contain_text("The three perches by the window")
        expect(theirs.get_by_role("button")).to_have_count(0)
        self.shot(executor, "my-orders")

        # The executor is deactivated before the work starts: the order is released and matched
        # to the next worker with the skill (a junior: 90 %), whose kit the manager hands out,
        # and it is pending again, the release and the second match in its history.
        second = self.market_worker(skill, "junior")
        email, password = admin_credentials()
        admin = self.stack.sign_in(email, password)
        status, body = self.stack.call("POST", f"/accounts/{worker['id']}/deactivate", admin)
        assert status == 200, body
        page.goto(f"{self.stack.url}/#/orders/{order_id}")
        self.reload_until(page, page.get_by_test_id("order-value").filter(has_text=dollars(12345 * 90 // 100)))
        expect(page.get_by_test_id("waiting-for")).to_have_text("waiting for supplied")
        self.nav(boss, "Kits")
        issue = kit.get_by_role("button", name=re.compile("^Issue the kit of order"))
        self.reload_until(boss, issue)
        issue.click()
        expect(boss.get_by_test_id("kits-out")).to_contain_text("Issued the kit of order")
        self.reload_until(page, page.locator("ol.progress li[data-step='pending'][data-state='done']"))
        transitions = [steps.nth(i).get_attribute("data-transition") for i in range(steps.count())]
        assert transitions[6:] == ["release", "match", "value", "supply", "join"], transitions
        status, order = self.stack.call("GET", f"/orders/{order_id}", token)
        assert (status, order["executor_id"]) == (200, second["id"]), order
        self.shot(page, "pending-again")

        # Quality (M6): the manager opens a QA case for the order, sees it open, closes it.
        self.nav(boss, "QA cases")
        opening = boss.get_by_role("form", name="Open a QA case")
        opening.get_by_label("Order id").fill(order_id)
        opening.get_by_role("button", name="Open a case").click()
        expect(boss.get_by_test_id("qa-out")).to_contain_text("Opened case")
        case = boss.locator("tr", has=boss.locator(f"a[href='#/orders/{order_id}']"))
        expect(case.get_by_test_id("case-status")).to_have_text("open")
        expect(case).to_contain_text("manual")
        opening.get_by_label("Order id").fill(order_id)
        opening.get_by_role("button", name="Open a case").click()
        expect(boss.get_by_test_id("qa-out").locator(".problem")).to_contain_text("409")
        self.shot(boss, "qa-case-open")
        closing = case.get_by_role("form", name=re.compile("^Close the case of order"))
        closing.get_by_label("Verdict").select_option("ok")
        closing.get_by_label("Notes").fill("Looked at the perches: fine.")
        closing.get_by_role("button", name="Close the case").click()
        expect(boss.get_by_test_id("qa-out")).to_contain_text("Closed the case of order")
        expect(case.get_by_test_id("case-status")).to_have_text("closed")
        expect(case).to_contain_text("Looked at the perches: fine.")
        self.no_horizontal_overflow(boss, "QA cases")
        self.shot(boss, "qa-case-closed")

        # Retired, the type is no longer offered; the retired ones are listed apart.
        self.nav(boss, "Service types")
        boss.once("dialog", lambda dialog: dialog.accept())
        boss.get_by_role("button", name=f"Retire {name}").click()
        expect(boss.get_by_test_id("types-out")).to_contain_text(f"Retired {name}.")
        expect(boss.get_by_text(name, exact=True)).to_have_count(0)
        boss.get_by_label("Show the retired ones instead").check()
        expect(boss.locator("caption")).to_contain_text("Retired service types")
        expect(boss.locator("tr", has=boss.get_by_text(name, exact=True))).to_contain_text("retired")
        self.shot(boss, "retired")
        for p in (boss, page):
            assert not p.errors, f"errors in the page: {p.errors}"
        return executor

    def a_client_cancels_an_order_and_a_second_cancel_is_refused(self):
        manager = self.market_account("manager", "Milo Manager")
        client = self.market_account("client", "Cass Client")
        name = f"Nest sweep {STAMP}"
        boss = self.stack.sign_in(manager["email"], manager["password"])
        status, kind = self.stack.call("POST", "/orders/service-types", boss, {
            "name": name, "base_price_cents": 5000, "required_skill": f"nest-sweep-{STAMP}",
            "duration_minutes": 60, "supplies": [{"item": "broom", "quantity": 1}]})
        assert status == 201, kind
        token = self.stack.sign_in(client["email"], client["password"])
        slot = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        status, order = self.stack.call("POST", "/orders", token, {
            "service_type_id": kind["service_type_id"], "description": "The whole nest",
            "address": "3 Twig Row", "slot_start": slot}, headers={"idempotency-key": str(uuid.uuid4())})
        assert status == 201, order
        order_id = order["order_id"]

        # The client's orders, open in one tab…
        stale = self.page("market-cancel-list")
        self.sign_in_with_password(stale, client["email"], client["password"])
        self.nav(stale, "My orders")
        row = stale.locator("tr", has=stale.locator(f"[data-order-id='{order_id}']"))
        stale_cancel = row.get_by_role("button", name=re.compile("^Cancel the order"))
        expect(stale_cancel).to_be_visible()

        # …and the order's own page in another. Were it in report (the answer changed on its way:
        # no executor reports here), the client could approve or decline it; the API, which
        # knows better, refuses with a reason that shows.
        page = self.page("market-cancel")
        self.sign_in_with_password(page, client["email"], client["password"])

        def in_report(route):
            answer = route.fetch()
            route.fulfill(response=answer, json={**answer.json(), "places": ["report"], "waiting_for": []})
        page.route(f"**/orders/{order_id}", in_report)
        page.goto(f"{self.stack.url}/#/orders/{order_id}")
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        expect(page.locator("ol.progress li[data-step='report']")).to_have_attribute("data-state", "done")
        page.get_by_role("form", name="Approve the report").get_by_role("button", name="Approve").click()
        expect(page.get_by_test_id("order-out").locator(".problem")).to_contain_text("it cannot Approve")
        decline = page.get_by_role("form", name="Decline the report")
        decline.get_by_label("Reason").fill("The nest is still dusty")
        decline.get_by_role("button", name="Decline").click()
        expect(page.get_by_test_id("order-out").locator(".problem")).to_contain_text("it cannot Decline")
        self.shot(page, "report-faked")
        page.unroute(f"**/orders/{order_id}")
        page.reload()
        expect(page.get_by_role("form", name="Approve the report")).to_have_count(0)

        # Cancelled there.
        cancel = page.get_by_role("button", name=re.compile("^Cancel the order"))
        page.once("dialog", lambda dialog: dialog.accept())
        cancel.click()
        expect(page.get_by_test_id("order-out")).to_contain_text(f"Cancelled the order of {name}.")
        expect(page.locator("p.progress [data-step='cancelled']")).to_be_visible()
        expect(cancel).to_have_count(0)
        expect(page.locator("tr[data-transition='cancel']")).to_have_count(1)
        self.shot(page, "cancelled")

        # The tab opened before still offers Cancel: pressed, the API's 409 says why.
        stale.once("dialog", lambda dialog: dialog.accept())
        stale_cancel.click()
        problem = stale.get_by_test_id("orders-out").locator(".problem")
        expect(problem).to_contain_text("(HTTP 409)")
        status, refused = self.stack.call("POST", f"/orders/{order_id}/cancel", token)
        assert status == 409, refused
        expect(problem).to_contain_text(refused["detail"])
        expect(stale_cancel).to_be_enabled()
        self.shot(stale, "second-cancel-refused")
        stale.get_by_role("button", name="Refresh", exact=True).click()
        expect(row.locator("[data-step='cancelled']")).to_be_visible()
        expect(row.get_by_role("button")).to_have_count(0)
        expect(stale.locator(".problem")).to_have_count(0)
        self.shot(stale, "refreshed")
        assert not page.errors, f"errors in the page: {page.errors}"
        return stale

    # --- bets (SPEC M8)

    def fill_a_bet(self, page, order_id, outcome, stake):
        """On Bets, fills the form to bet `stake` (dollars, as typed) on the order's `outcome`."""
        form = page.get_by_role("form", name="Place a bet")
        form.get_by_label("Order id").fill(order_id)
        form.get_by_label("Outcome").select_option(outcome)
        form.get_by_label(re.compile("^Stake in dollars")).fill(stake)
        return form

    # --- billing (SPEC M7)

    def billing_knows(self, *people):
        """Waits until billing's copy of each account exists (Account.Created reached it)."""
        for person in people:
            eventually(60, f"billing knows {person['email']}",
                       lambda: self.stack.items("BillingTable", f"ACCOUNT#{person['id']}"))

    def a_manager_grants_a_bonus_and_the_worker_sees_it_this_month(self):
        manager = self.market_account("manager", "Bea Bonus")
        worker = self.market_account("worker", "Wynn Worker")
        self.billing_knows(manager, worker)

        boss = self.page("billing-bonus")
        self.sign_in_with_password(boss, manager["email"], manager["password"])
        self.nav(boss, "Bonuses")
        form = boss.get_by_role("form", name="Grant a bonus")
        out = boss.get_by_test_id("bonus-out")
        expect(boss.locator("caption")).to_have_text("Bonuses, newest first")
        # Refusals show as every form shows them: the amount is read here, the rest by the API.
        form.get_by_label("Worker id").fill(manager["id"])
        form.get_by_label(re.compile("^Amount in dollars")).fill("lots")
        form.get_by_label("Reason").fill("Every perch shone")
        form.get_by_role("button", name="Grant the bonus").click()
        expect(out.locator(".problem")).to_contain_text("Give the amount in dollars")
        form.get_by_label(re.compile("^Amount in dollars")).fill("25")
        form.get_by_role("button", name="Grant the bonus").click()
        expect(out.locator(".problem")).to_contain_text("(HTTP 422)")
        expect(out.locator(".problem")).to_contain_text("is no active worker")
        form.get_by_label("Worker id").fill(worker["id"])
        form.get_by_label("Reason").fill("   ")
        form.get_by_role("button", name="Grant the bonus").click()
        expect(out.locator(".problem")).to_contain_text("(HTTP 422)")
        expect(out.locator(".problem")).to_contain_text("reason")
        self.shot(boss, "bonus-refused")
        # The first answer is lost on its way back; pressed again, the same key grants once.
        form.get_by_label("Reason").fill("Every perch shone")
        boss.route("**/billing/bonuses", lambda route: (route.fetch(), route.abort())
                   if route.request.method == "POST" else route.continue_(), times=1)
        form.get_by_role("button", name="Grant the bonus").click()
        expect(out.locator(".problem")).to_contain_text("cannot be reached")
        form.get_by_role("button", name="Grant the bonus").click()
        expect(out).to_contain_text(f"Granted $25.00 to worker …{worker['id'][-8:]}, on their statement of")
        row = boss.locator("tr", has=boss.locator(f"code[title='{worker['id']}']"))
        expect(row).to_have_count(1)
        expect(row.get_by_test_id("bonus-amount")).to_have_text("$25.00")
        expect(row).to_contain_text("Every perch shone")
        expect(row).to_contain_text("you")
        token = self.stack.sign_in(manager["email"], manager["password"])
        granted = [b for b in self.stack.call("GET", "/billing/bonuses?limit=100", token)[1]["bonuses"]
                   if b["worker_id"] == worker["id"]]
        assert len(granted) == 1, f"one bonus, whatever the retries: {granted}"
        self.no_horizontal_overflow(boss, "Bonuses")
        self.shot(boss, "bonus-granted")

        # The worker sees it in this month so far, their expected salary with it.
        page = self.page("billing-worker-month")
        self.sign_in_with_password(page, worker["email"], worker["password"])
        self.nav(page, "My earnings")
        expect(page.get_by_test_id("month-bonuses")).to_have_text("$25.00")
        expect(page.get_by_test_id("month-shares")).to_have_text("$0.00")
        expect(page.get_by_test_id("month-salary")).to_have_text("$25.00")
        expect(page.locator("dl.figures")).to_have_attribute("data-month", granted[0]["month"])
        expect(page.locator("td.empty")).to_contain_text("No statements yet")
        self.shot(page, "this-month")
        # Bonuses are the managers' alone: the worker's address bar gets a refusal.
        page.goto(f"{self.stack.url}/#/billing/bonuses")
        expect(page.get_by_role("heading", level=1)).to_have_text("Not for your role")
        expect(page.locator(".refusal")).to_contain_text("Bonuses is for managers")
        assert not boss.errors, f"errors in the page: {boss.errors}"
        return page

    def end_the_week_and_the_month(self):
        """The clock's schedule fired ahead: at the next Monday's midnight (UTC here) Sunday's
        business day ends, and with it the week (tests/e2e_money.rs); at the next month's first
        midnight, the month. In time order; one firing when they fall together."""
        today = datetime.now(timezone.utc).date()
        monday = today + timedelta(days=7 - today.weekday())
        first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        names = set()
        for at in sorted({monday, first}):
            status, fired = self.stack.call("POST", f"/_local/schedules/ClockEndDayFunction/DayEnd/fire?at={at}T00:00:00Z")
            assert status == 200, fired
            names |= {e.get("name") for e in fired["response"]["events"]}
        assert {"Clock.WeekEnded", "Clock.MonthEnded"} <= names, names

    def file_in_the_browser(self, page, order_id, kind):
        """The executor files the pre-report or the report on the order's page; reports' copy of
        the order may lag the orders API by a moment (a 409 that shows), so it is filed again."""
        title = "File the pre-report" if kind == "pre-report" else "File the report"
        said = "Pre-report filed" if kind == "pre-report" else "Report filed"
        page.goto(f"{self.stack.url}/#/orders/{order_id}")
        form = page.get_by_role("form", name=title)
        self.reload_until(page, form)
        deadline = time.monotonic() + 60
        while True:
            form.get_by_label("What you found or did").fill(f"{kind}: the perches, one by one")
            form.get_by_role("button", name=title).click()
            done = page.get_by_test_id("order-out").filter(has_text=said)
            refused = page.locator("section[aria-labelledby='reports'] .problem")
            expect(done.or_(refused)).to_be_visible()
            if done.is_visible():
                return
            assert "409" in refused.inner_text() and time.monotonic() < deadline, refused.inner_text()
            time.sleep(1)
            page.reload()
            self.reload_until(page, form)

    def dun_at(self, at, invoice_id, attempts):
        """Billing's dunning schedule fired at `at` until the invoice's collection has been tried
        `attempts` times, each declined (billing learns of the last attempt's failure a moment
        after payments records it; other journeys' clients may have invoices retrying too)."""
        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        admin = self.stack.sign_in(*admin_credentials())

        def tried():
            self.stack.call("POST", f"/_local/schedules/BillingDunFunction/EveryFifteenMinutes/fire?at={stamp}")
            found = self.stack.call("GET", f"/payments/collections?invoice_id={invoice_id}", admin)[1]
            return sum(c["status"] == "voided" for c in found["collections"]) == attempts
        eventually(60, f"attempt {attempts} of invoice {invoice_id}, dunned at {stamp}", tried)

    def the_whole_marketplace_from_application_to_salary(self):
        """The marketplace end to end, each step by the person who takes it, in the browser: a
        worker applies, passes a test and is hired with the service's skill; a client applies and
        is accepted; the admin sees their accounts and takes on an accountant. The client orders
        twice; a manager bets on both orders (another against, through the API); the kits are
        handed out, the executor files each pre-report and report; the client approves one order
        and declines the other; the decline's QA case is closed with the client at fault (the
        fine waived); a bonus. The week ends: one invoice of two lines, collected, both orders
        paid; another client's declined card retried by the dunning schedule, then
        uncollectible; the month ends: the statement (share − fine + waiver + bonus) and its
        salary, paid; the accountant's invoices, statements and revenue; the books settled and
        the standings; every mail of the way in its person's history, once, and a manager's
        message to the worker. Last: it ends the week and the month for the whole stack."""
        skill = f"perch-wax-{STAMP}"
        name = f"Perch wax {STAMP}"
        manager = self.market_account("manager", "Mort Manager")
        rival = self.market_account("manager", "Bob Bettor")
        declining = self.market_account("client", "Dora Declined")
        boss = self.stack.sign_in(manager["email"], manager["password"])
        profile = self.a_test_profile(boss)
        status, kind = self.stack.call("POST", "/orders/service-types", boss, {
            "name": name, "base_price_cents": 12000, "required_skill": skill,
            "duration_minutes": 15, "supplies": [{"item": "wax", "quantity": 1}]})
        assert status == 201, kind

        # A worker and a client apply (no digits in their names: the sign-in mail greets by name,
        # and a code is six digits).
        worker = {"email": f"market-applicant-worker-{STAMP}@popug.test", "name": "Wade Waxer"}
        client = {"email": f"market-applicant-client-{STAMP}@popug.test", "name": "Carla Client"}
        applying = self.page("marketplace-applicant-worker")
        hired = self.apply_in_the_browser(applying, "worker", worker["email"], worker["name"])
        self.shot(applying, "applied")
        asking = self.page("marketplace-applicant-client")
        accepted = self.apply_in_the_browser(asking, "client", client["email"], client["name"])
        asking.goto(accepted["link"])
        expect(asking.get_by_test_id("application-status")).to_have_text("new")
        self.shot(asking, "applied")

        # The manager gives the worker the test; passed, they are hired with the service's skill,
        # at middle level (100 % of the base price). The client is accepted.
        office = self.page("marketplace-manager")
        self.sign_in_with_password(office, manager["email"], manager["password"])
        self.give_the_test(office, worker["name"], profile)
        self.take_the_test(applying, hired["link"], 1, ["A waxing popug"], "4 of 4: passed")
        office.reload()
        expect(office.get_by_test_id("review-score")).to_have_text("4 of 4, passed")
        self.accept_in_the_browser(office, skill, "middle")
        self.shot(office, "worker-hired")
        self.open_application(office, "client", "new", client["name"])
        self.accept_in_the_browser(office)
        self.shot(office, "client-accepted")
        for applicant in (applying, asking):
            applicant.reload()
            expect(applicant.get_by_test_id("application-status")).to_have_text("accepted")
            self.shot(applicant, "accepted")

        # Auth opens their accounts; the admin sees them among everyone's, and takes on an
        # accountant.
        for person, role in [(worker, "worker"), (client, "client")]:
            account = self.opened_account(person["email"])
            assert account["role"] == role, account
            person["id"] = account["account_id"]
        admin = self.page("marketplace-admin")
        self.sign_in_with_password(admin, *admin_credentials())
        self.nav(admin, "Accounts")
        for person, role in [(worker, "worker"), (client, "client")]:
            expect(admin.get_by_label(f"Role of {person['email']}", exact=True)).to_have_value(role)
        accountant = {"email": self.create_in_the_browser(admin, "accountant", "Ada Accountant", "ada-password-01"),
                      "password": "ada-password-01"}
        self.shot(admin, "accounts")
        accountant["id"] = self.opened_account(accountant["email"])["account_id"]
        self.matchable(worker["id"], skill)
        self.billing_knows(client, declining, worker, accountant)

        # The client keeps a card; the worker gives the bank account salaries go to. Neither has
        # a password: they sign in with mailed codes.
        page = self.page("marketplace-client")
        self.sign_in_with_a_code(page, client["email"])
        self.keep_a_card(page, "tok_visa")
        expect(page.get_by_test_id("card-on-file")).to_contain_text("4242")
        self.shot(page, "my-card")
        executor = self.page("marketplace-worker")
        self.sign_in_with_a_code(executor, worker["email"])
        self.nav(executor, "My money")
        bank = executor.get_by_role("form", name="Set the bank account for payouts")
        bank.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
        bank.get_by_role("button", name="Save IBAN").click()
        expect(executor.get_by_test_id("iban")).to_have_text("••••3000")
        self.shot(executor, "my-bank-account")

        # Two orders, fifteen minutes each, twenty minutes apart: the one worker takes both. The
        # form knows this stack's notice (a minute: infra/local/local.json) from the API.
        self.nav(page, "Order a service")
        expect(page.get_by_text("(your time; 1 minute to 90 days from now)")).to_be_visible()
        orders = []
        for minutes, what in [(4, "The perches by the window"), (24, "The perches by the door")]:
            page.get_by_label(re.compile("^Service")).select_option(label=name)
            page.get_by_label(re.compile("^What to do")).fill(what)
            page.get_by_label(re.compile("^Address")).fill("9 Wax Lane")
            slot = datetime.now() + timedelta(minutes=minutes)
            page.get_by_label(re.compile("^Start of the slot")).fill(slot.strftime("%Y-%m-%dT%H:%M"))
            page.get_by_role("button", name="Order", exact=True).click()
            # The link to this order (the one before's stays until the answer comes).
            fresh = page.get_by_test_id("order-form-out").locator(
                "a[data-order-id]" + "".join(f":not([data-order-id='{o}'])" for o in orders))
            expect(fresh).to_have_count(1)
            orders.append(fresh.get_attribute("data-order-id"))
        approved, declined = orders
        buyer = self.token_by_a_code(client["email"])

        # The manager bets on both orders before their work begins, success on the one and
        # failure on the other; the other manager bets against through the API. A stake that is
        # no amount is refused in the page; a lost answer and a second press bet once; a second
        # bet on an order is refused, and says why.
        for order_id in orders:
            eventually(60, "bidding knows the order", lambda o=order_id: self.stack.call("GET", f"/bets/orders/{o}", boss)[0] == 200)
        self.nav(office, "Bets")
        out = office.get_by_test_id("bets-out")
        form = self.fill_a_bet(office, approved, "success", "lots")
        form.get_by_role("button", name="Place the bet").click()
        expect(out.locator(".problem")).to_contain_text("Give the stake in dollars")
        form.get_by_label(re.compile("^Stake in dollars")).fill("30")
        office.route("**/bets", lambda route: (route.fetch(), route.abort()) if route.request.method == "POST" else route.continue_(), times=1)
        form.get_by_role("button", name="Place the bet").click()
        expect(out.locator(".problem")).to_contain_text("cannot be reached")
        form.get_by_role("button", name="Place the bet").click()
        expect(out).to_contain_text(f"Bet $30.00 on success for order …{approved[-8:]}")
        bet_on = {o: office.locator("tr", has=office.locator(f"a[data-order-id='{o}']")) for o in orders}
        expect(bet_on[approved]).to_have_count(1)
        expect(bet_on[approved].get_by_test_id("book-status")).to_have_text("open")
        expect(bet_on[approved].get_by_test_id("bet-payout")).to_have_text("open")
        self.fill_a_bet(office, approved, "failed", "5").get_by_role("button", name="Place the bet").click()
        expect(out.locator(".problem")).to_contain_text("(HTTP 409)")
        self.fill_a_bet(office, declined, "failed", "20").get_by_role("button", name="Place the bet").click()
        expect(out).to_contain_text(f"Bet $20.00 on failed for order …{declined[-8:]}")
        expect(bet_on[declined].get_by_test_id("book-status")).to_have_text("open")
        self.shot(office, "bets-placed")
        against = self.stack.sign_in(rival["email"], rival["password"])
        against_bets = {}
        for order_id, outcome, stake in [(approved, "failed", 1000), (declined, "success", 2000)]:
            status, bet = self.stack.call("POST", "/bets", against, {"order_id": order_id, "outcome": outcome, "stake_cents": stake},
                                          headers={"idempotency-key": str(uuid.uuid4())})
            assert status == 201, bet
            against_bets[order_id] = bet["bet_id"]

        def order_of(token, order_id, place):
            return eventually(90, f"order {order_id} in {place}", lambda: (lambda o: o if place in o.get("places", []) else None)(
                self.stack.call("GET", f"/orders/{order_id}", token)[1]))

        def hand_out(order_id):
            order_of(buyer, order_id, "valued")
            kit = eventually(90, "the supplier delivered the kit", lambda: next((
                k for k in self.stack.call("GET", "/supplies/kits?status=received", boss)[1]["kits"]
                if k["order_id"] == order_id), None))
            status, issued = self.stack.call("POST", f"/supplies/kits/{kit['kit_id']}/issue", boss, {})
            assert status == 200, issued

        # The other client's card is declined at every charge; their order, cancelled once priced,
        # is charged in full (course).
        dodger = self.stack.sign_in(declining["email"], declining["password"])
        status, kept = self.stack.call("PUT", "/payments/me/card", dodger, {"card_token": "tok_chargeDeclined"})
        assert status == 200, kept
        slot = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        status, unpaid = self.stack.call("POST", "/orders", dodger, {
            "service_type_id": kind["service_type_id"], "description": "Every perch", "address": "1 Late Lane",
            "slot_start": slot}, headers={"idempotency-key": str(uuid.uuid4())})
        assert status == 201, unpaid
        order_of(dodger, unpaid["order_id"], "valued")
        status, cancelled = self.stack.call("POST", f"/orders/{unpaid['order_id']}/cancel", dodger)
        assert status == 200, cancelled

        # The manager hands out the kits (the order's own journey does it in the browser); the
        # executor files each pre-report and report on the order's page.
        for order_id in orders:
            hand_out(order_id)
            order_of(buyer, order_id, "pending")
        for order_id in orders:
            self.file_in_the_browser(executor, order_id, "pre-report")
            order_of(buyer, order_id, "in_work")
            self.file_in_the_browser(executor, order_id, "report")
        self.shot(executor, "report-filed")

        # The client approves one and declines the other.
        for order_id, how in [(approved, "Approve"), (declined, "Decline")]:
            page.goto(f"{self.stack.url}/#/orders/{order_id}")
            form = page.get_by_role("form", name=f"{how} the report")
            self.reload_until(page, form)
            expect(page.get_by_test_id("filed-report")).to_contain_text("report: the perches")
            if how == "Decline":
                form.get_by_label("Reason").fill("Streaks on every perch")
            form.get_by_role("button", name=how).click()
            expect(page.get_by_test_id("order-out")).to_contain_text("Approved" if how == "Approve" else "Declined the report")
        self.shot(page, "declined")

        # The decline opened a QA case; the manager finds the client at fault, and grants a bonus.
        self.nav(office, "QA cases")
        case = office.locator("tr", has=office.locator(f"a[href='#/orders/{declined}']"))
        self.reload_until(office, case)
        expect(case).to_contain_text("declined")
        closing = case.get_by_role("form", name=re.compile("^Close the case of order"))
        closing.get_by_label("Verdict").select_option("client_at_fault")
        closing.get_by_label("Notes").fill("The perches were clean: the photos show it.")
        closing.get_by_role("button", name="Close the case").click()
        expect(office.get_by_test_id("qa-out")).to_contain_text("client_at_fault")
        self.shot(office, "qa-case-closed")
        self.nav(office, "Bonuses")
        grant = office.get_by_role("form", name="Grant a bonus")
        grant.get_by_label("Worker id").fill(worker["id"])
        grant.get_by_label(re.compile("^Amount in dollars")).fill("10")
        grant.get_by_label("Reason").fill("Spotless perches")
        grant.get_by_role("button", name="Grant the bonus").click()
        expect(office.get_by_test_id("bonus-out")).to_contain_text("Granted $10.00")
        self.shot(office, "bonus-granted")

        # The worker's month so far: share − fine + waiver + bonus.
        self.nav(executor, "My earnings")
        self.reload_until(executor, executor.get_by_test_id("month-waivers").filter(has_text="$48.00"))
        self.reload_until(executor, executor.get_by_test_id("month-bonuses").filter(has_text="$10.00"))
        for testid, shown in [("month-shares", "$72.00"), ("month-fines", "−$48.00"), ("month-salary", "$82.00")]:
            expect(executor.get_by_test_id(testid)).to_have_text(re.compile(re.escape(shown).replace("−", "[−-]")))
        self.shot(executor, "this-month")
        for order_id in orders + [unpaid["order_id"]]:
            eventually(60, "billing has the charge", lambda: self.stack.items("BillingTable", f"MOVE#charge:{order_id}"))

        # The week and the month end (the clock's schedule, fired ahead).
        week = "{}-W{:02d}".format(*datetime.now(timezone.utc).date().isocalendar()[:2])
        month = datetime.now(timezone.utc).strftime("%Y-%m")
        self.end_the_week_and_the_month()

        # The client: one invoice of two lines, paid; both orders paid.
        invoice = eventually(90, "the client's invoice is paid", lambda: next((
            i for i in self.stack.call("GET", "/billing/me/invoices", buyer)[1]["invoices"] if i["status"] == "paid"), None))
        assert (invoice["week"], invoice["total_cents"], len(invoice["lines"])) == (week, 24000, 2), invoice
        self.nav(page, "My invoices")
        row = page.locator("tr", has=page.locator(f"a[data-invoice-id='{invoice['invoice_id']}']"))
        expect(row.get_by_test_id("invoice-status")).to_have_text("paid")
        expect(row.get_by_test_id("invoice-total")).to_have_text("$240.00")
        self.shot(page, "my-invoices")
        row.get_by_role("link", name=f"Week {week}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice of week {week}")
        expect(page.locator(f"tr[data-line='{approved}']")).to_contain_text("approved")
        expect(page.locator(f"tr[data-line='{declined}']")).to_contain_text("declined")
        for line in (approved, declined):
            expect(page.locator(f"tr[data-line='{line}']")).to_contain_text("$120.00")
        expect(page.get_by_test_id("invoice-total")).to_have_text("$240.00")
        self.shot(page, "invoice")
        for order_id, paid in [(approved, "success_paid"), (declined, "failed_paid")]:
            order_of(buyer, order_id, paid)
        page.locator(f"tr[data-line='{approved}']").get_by_role("link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        self.reload_until(page, page.locator("ol.progress li[data-step='paid'][data-state='done']"))
        self.shot(page, "order-paid")

        # The declined card: retried after 1, 3 and 7 days, then uncollectible.
        retrying = eventually(90, "the first collection declined", lambda: next((
            i for i in self.stack.call("GET", "/billing/me/invoices", dodger)[1]["invoices"] if i["status"] == "retrying"), None))
        failed_at = datetime.now(timezone.utc)
        for days, attempts in [(1, 2), (3, 3), (7, 4)]:
            self.dun_at(failed_at + timedelta(days=days, hours=1), retrying["invoice_id"], attempts)
        given_up = eventually(90, "uncollectible", lambda: next((
            i for i in self.stack.call("GET", "/billing/me/invoices", dodger)[1]["invoices"] if i["status"] == "uncollectible"), None))
        assert given_up["total_cents"] == 12000, given_up

        # The worker's statement of the month, its salary paid through the bank.
        statement = executor.locator("tr", has=executor.get_by_test_id("statement-month").filter(has_text=month))
        self.reload_until(executor, statement.get_by_test_id("salary-status").filter(has_text="paid"))
        expect(statement.get_by_test_id("statement-total")).to_have_text("$82.00")
        expect(statement).to_contain_text("$72.00")
        expect(statement).to_contain_text("$10.00")
        # Its month is stated: this month so far is the next one now.
        expect(executor.locator("dl.figures")).not_to_have_attribute("data-month", month)
        self.no_horizontal_overflow(executor, "My earnings")
        self.shot(executor, "statement-paid")

        # The accountant: the week's invoices, the uncollectible one, the month's statements, the
        # revenue.
        books = self.page("marketplace-accountant")
        self.sign_in_with_password(books, accountant["email"], accountant["password"])
        self.nav(books, "Invoices")
        last_week = "{}-W{:02d}".format(*(datetime.now(timezone.utc).date() - timedelta(days=7)).isocalendar()[:2])
        filters = books.get_by_role("form", name="Filter invoices")
        expect(filters.get_by_label("Week")).to_have_value(last_week)
        expect(books.locator("caption")).to_have_text(f"Invoices of week {last_week}")
        filters.get_by_label("Week").fill(week)
        filters.get_by_label("Status").select_option("paid")
        filters.get_by_role("button", name="Show").click()
        expect(books.locator("caption")).to_have_text(f"Invoices of week {week}, paid")
        listed = books.locator("tr", has=books.locator(f"a[data-invoice-id='{invoice['invoice_id']}']"))
        expect(listed).to_contain_text("$240.00")
        expect(listed.locator(f"code[title='{client['id']}']")).to_have_count(1)
        self.no_horizontal_overflow(books, "Invoices")
        self.shot(books, "invoices")
        listed.get_by_role("link", name=f"Week {week}").click()
        expect(books.get_by_role("heading", level=1)).to_have_text(f"Invoice of week {week}")
        expect(books.locator(f"tr[data-line='{declined}']")).to_contain_text("$120.00")
        expect(books.get_by_role("link", name="← Invoices")).to_be_visible()
        self.nav(books, "Invoices")
        filters.get_by_label("Week").fill("")
        filters.get_by_label("Status").select_option("uncollectible")
        filters.get_by_role("button", name="Show").click()
        expect(books.locator("caption")).to_have_text("Invoices uncollectible")
        lost = books.locator("tr", has=books.locator(f"a[data-invoice-id='{given_up['invoice_id']}']"))
        expect(lost.get_by_test_id("invoice-status")).to_have_text("uncollectible")
        expect(lost.locator(f"code[title='{declining['id']}']")).to_have_count(1)
        self.shot(books, "uncollectible")

        self.nav(books, "Statements")
        chooser = books.get_by_role("form", name="Choose the month")
        chooser.get_by_label("Month").fill(month)
        chooser.get_by_role("button", name="Show").click()
        expect(books.locator("caption")).to_have_text(f"Statements of {month}")
        theirs = books.locator("tr", has=books.locator(f"code[title='{worker['id']}']"))
        expect(theirs.get_by_test_id("statement-total")).to_have_text("$82.00")
        expect(theirs.get_by_test_id("salary-status")).to_have_text("paid")
        self.no_horizontal_overflow(books, "Statements")
        self.shot(books, "statements")

        self.nav(books, "Revenue")
        span = books.get_by_role("form", name="Revenue: range")
        today = datetime.now().date()
        first = (today - timedelta(days=7 * 8 - 1)).isoformat()
        expect(span.get_by_label("From")).to_have_value(first)
        expect(span.get_by_label("To")).to_have_value(today.isoformat())
        weeks = self.stack.call("GET", f"/billing/revenue?from={first}&to={today}", self.stack.sign_in(*admin_credentials()))[1]["weeks"]
        this = next(w for w in weeks if w["week"] == week)
        assert this["charged_cents"] >= 36000 and this["collected_cents"] >= 24000 and this["shares_cents"] >= 7200, this
        shown = books.locator(f"tr[data-week='{week}']")
        for key in ("charged_cents", "collected_cents", "shares_cents", "fines_cents", "bonuses_cents"):
            expect(shown.locator(f"td[data-key='{key}']")).to_have_text(dollars(this[key]))
        self.no_horizontal_overflow(books, "Revenue")
        self.shot(books, "revenue")

        # The books settled as the client decided: the manager won both, the pool of each; the
        # standings say who would pay whom.
        self.nav(office, "Bets")
        for order_id in orders:
            self.reload_until(office, bet_on[order_id].get_by_test_id("book-status").filter(has_text="settled"))
            expect(bet_on[order_id].get_by_test_id("bet-payout")).to_have_text("$40.00")
        bet_on[approved].get_by_role("link").click()
        book = office.locator("section[aria-labelledby='book']")
        expect(office.get_by_role("heading", name=f"The book of order …{approved[-8:]}")).to_be_visible()
        expect(book.get_by_test_id("book-status")).to_have_text("settled")
        expect(office.get_by_test_id("pool")).to_have_text("$40.00")
        expect(book.locator("tbody tr")).to_have_count(2)
        expect(book.locator(f"tr[data-bet-id='{against_bets[approved]}']").get_by_test_id("bet-payout")).to_have_text("$0.00")
        expect(book.locator("tr", has=office.locator("strong", has_text="you")).get_by_test_id("bet-payout")).to_have_text("$40.00")
        # The manager won the other's $10 and $20: he would pay them $30.
        expect(office.locator(f"tr[data-manager-id='{manager['id']}']").get_by_test_id("net")).to_have_text("$30.00")
        expect(office.locator(f"tr[data-manager-id='{rival['id']}']").get_by_test_id("net")).to_have_text(re.compile("^[−-]\\$30.00$"))
        expect(office.get_by_test_id("transfers")).to_contain_text("would pay you $30.00")
        self.no_horizontal_overflow(office, "Bets")
        self.shot(office, "books-settled")

        # M9: every mail of the way is in each person's own history, sent, once per cause: the
        # client's orders' steps and invoices, the worker's statement; the kits went to the supply
        # desk; a manager writes to the worker, sent at once.
        self.nav(page, "Notifications")
        theirs = page.locator("section[aria-labelledby='mine'] tbody")
        self.reload_until(page, theirs.locator("tr", has_text="invoice paid"))
        for about, count in [("order: executor matched", 2), ("order: ready for its slot", 2),
                             ("order: reported, approve or decline", 2), ("invoice issued", 1), ("invoice paid", 1)]:
            rows = theirs.locator("tr", has=page.locator("td", has_text=re.compile(f"^{re.escape(about)}$")))
            expect(rows).to_have_count(count)
            for i in range(count):
                expect(rows.nth(i)).to_contain_text("sent")
        self.no_horizontal_overflow(page, "Notifications")
        self.shot(page, "notifications")
        everyone, cursor = [], None
        root = self.stack.sign_in(*admin_credentials())
        while True:
            listed = self.stack.call("GET", "/notifications?limit=100" + (f"&cursor={cursor}" if cursor else ""), root)[1]
            everyone += listed["messages"]
            cursor = listed["next_cursor"]
            if not cursor:
                break
        kits = [m for m in everyone if m["kind"] == "kit_to_hand_out" and any(m["subject"].endswith(o[-8:]) for o in orders)]
        assert len(kits) == 2 and all(m["status"] == "sent" and m["account_id"] is None for m in kits), kits
        self.nav(office, "Notifications")
        note = office.get_by_role("form", name="Write a message")
        note.get_by_label("To (account id)").fill(worker["id"])
        note.get_by_label("Subject").fill("Your perches were spotless")
        note.get_by_label("Text").fill("Thank you, Wade.\n\nMort")
        note.get_by_role("button", name="Send now").click()
        expect(office.get_by_role("status")).to_contain_text(f"Sent to {worker['email']}")
        self.shot(office, "message-sent")
        self.nav(executor, "Notifications")
        own = executor.locator("section[aria-labelledby='mine'] tbody")
        for about in ("monthly statement", "a message from staff"):
            expect(own.locator("tr", has_text=about)).to_have_count(1)
            expect(own.locator("tr", has_text=about)).to_contain_text("sent")
        self.shot(executor, "notifications")
        self.nav(admin, "Notifications")
        expect(admin.get_by_role("heading", name="Everyone's messages")).to_be_visible()
        expect(admin.locator("section[aria-labelledby='everyone'] tbody tr").first).to_be_visible()
        expect(admin.locator("section[aria-labelledby='parked']")).to_contain_text(
            re.compile("Nothing waits|failed"))
        self.shot(admin, "notifications")

        # Admins hold every right but this one.
        expect(admin.get_by_role("navigation", name="Pages").get_by_role("link", name="Bets")).to_have_count(0)
        admin.goto(f"{self.stack.url}/#/bets")
        expect(admin.get_by_role("heading", level=1)).to_have_text("Not for your role")
        self.shot(admin, "bets-refused")
        status, refused = self.stack.call("GET", "/bets/mine", self.stack.sign_in(*admin_credentials()))
        assert status == 403, refused
        for p in (applying, asking, office, page, executor, books):
            assert not p.errors, f"errors in the page: {p.errors}"
        return admin


def main():
    # --keep-going: the journeys after a failed one run anyway (each may then fail for want of
    # what the failed one made); useful to see every check that fails, as before a fix.
    keep_going = "--keep-going" in sys.argv[1:]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    started = time.monotonic()
    stack = Stack()
    print(f"browser tests: local stack at {stack.url} ({time.monotonic() - started:.1f}s)", flush=True)
    order = [
        "the_admin_creates_employees",
        "a_manager_creates_tasks_and_watches_the_shuffle",
        "a_worker_signs_in_with_a_mailed_code_and_completes_a_task",
        "a_worker_who_types_the_company_pages_address_sees_a_refusal",
        "an_accountant_sees_the_company_earnings",
        "an_admin_sees_analytics",
        "a_failed_completion_is_shown_and_the_button_works_again",
        "the_skip_link_moves_to_the_page_and_stays_on_it",
        "pages_with_figures_open_on_a_default_range",
        "long_names_do_not_widen_the_tables",
        "a_worker_applies_takes_the_test_and_is_hired",
        "a_client_applies_is_accepted_and_sees_no_tracker",
        "a_manager_application_is_declined_by_an_admin",
        "a_client_orders_a_service_that_is_matched_supplied_and_pending",
        "a_client_cancels_an_order_and_a_second_cancel_is_refused",
        "a_manager_grants_a_bonus_and_the_worker_sees_it_this_month",
        # Last: it ends the week and the month ahead of time, for the whole stack.
        "the_whole_marketplace_from_application_to_salary",
    ]
    # --only a,b: just those journeys (each hiring and marketplace journey stands alone), to iterate on them.
    only = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--only=")), None)
    if only:
        wanted = only.split(",")
        unknown = [w for w in wanted if w not in order]
        if unknown:
            sys.exit(f"browser tests: no journey {unknown}; the journeys are {order}")
        order = [name for name in order if name in wanted]
    failed, skipped, refused = [], [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), headless=True)
            journeys = Journeys(stack, browser)
            for name in order:
                said = name.replace("_", " ")
                if failed and not keep_going:
                    # Each journey stands on the ones before it (their accounts, their tasks).
                    print(f"  not run: {said}", flush=True)
                    continue
                began = time.monotonic()
                try:
                    result = getattr(journeys, name)()
                    took = time.monotonic() - began
                    if isinstance(result, str):
                        skipped.append(name)
                        print(f"  skip {said}: {result}", flush=True)
                        continue
                    if result.errors:
                        raise AssertionError(f"errors in the page: {result.errors}")
                    print(f"  ok   {said} ({took:.1f}s)", flush=True)
                except Exception:  # noqa: BLE001 - reported with a screenshot, then the run fails
                    failed.append(name)
                    print(f"  FAIL {said}\n{traceback.format_exc()}", flush=True)
                    for context in browser.contexts:
                        for page in context.pages:
                            if getattr(page, "journey", None):
                                page.screenshot(path=str(SHOTS / f"{page.journey}-failure.png"), full_page=True)
                finally:
                    for context in browser.contexts:
                        context.close()
            browser.close()
        # Every AWS call the journeys caused was allowed by its function's IAM policy.
        refused = stack.call("GET", "/_local/iam-denials")[1]
    finally:
        stack.stop()
    total = time.monotonic() - started
    passed = len(order) - len(failed) - len(skipped) if not failed or keep_going else order.index(failed[0])
    print(f"browser tests: {passed} of {len(order)} journeys passed, {len(skipped)} skipped, in {total:.0f}s; "
          f"screenshots in {SHOTS.relative_to(ROOT)}/", flush=True)
    if refused:
        print(f"browser tests: AWS calls refused by IAM (the function's policy in its context's template): {json.dumps(refused)[:3000]}")
    if failed or refused:
        print(f"the stack's log: {stack.state / 'stack.err'}")
        sys.exit(1)
    shutil.rmtree(stack.state, ignore_errors=True)


if __name__ == "__main__":
    main()
