"""The HTTP API against its document: Schemathesis fuzzes openapi.yaml on a private local stack.

    python tests/contract/run_schemathesis.py        (make test runs it; make build first)

A local stack of our own (target/debug/ates-local on a free loopback port, stopped when this
process ends: it watches its stdin, which only we hold). The bootstrap admin creates a manager,
an accountant and a worker through the API, as an admin would; each signs in, and the hooks
(tests/contract/hooks.py) send every request of a signed-in route as one of the four, so that
each route is reached by roles it admits and by roles it refuses. Schemathesis runs all its
checks but one (tests/contract/schemathesis.toml says which and why) in every phase: examples,
coverage, fuzzing and the stateful phase along the document's links. Then this script checks,
from the hooks' log, that on every signed-in route an admitted role got past API Gateway and
no refused identity did.

Bounded: ATES_CONTRACT_EXAMPLES examples per operation (default 10), ATES_CONTRACT_SEED (default
fixed, so a failure reproduces; any other number explores), and a time limit on the run.
ATES_CONTRACT_ARGS adds Schemathesis options (e.g. `--include-operation-id signIn`). The report
(Schemathesis's output, its NDJSON events, the identity log) is in target/contract/.
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUT = ROOT / "target" / "contract"
EXAMPLES = int(os.environ.get("ATES_CONTRACT_EXAMPLES", "10"))
SEED = int(os.environ.get("ATES_CONTRACT_SEED", "20261122"))
TIME_LIMIT_S = int(os.environ.get("ATES_CONTRACT_TIME_LIMIT", "240"))
STAMP = str(time.time_ns())
ROLES = ["manager", "accountant", "worker", "client"]


def fail(message):
    print(f"contract: {message}", file=sys.stderr)
    sys.exit(1)


def admin_credentials():
    """The admin ates-local bootstraps (infra/local/local.json, with its environment overrides)."""
    bootstrap = json.loads((ROOT / "infra/local/local.json").read_text())["bootstrap"]
    given = {field: os.environ.get(var) for field, var in bootstrap["env"].items()}
    return tuple(given.get(f) or bootstrap["input"][f] for f in ("email", "password"))


class Stack:
    """ates-local on a free port with a state directory of its own; it ends with our stdin."""

    def __init__(self):
        binary = ROOT / "target/debug/ates-local"
        if not binary.exists():
            fail(f"{binary} is missing (make build)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.state = Path(tempfile.mkdtemp(prefix="ates-contract-"))
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
            fail(f"the local stack did not start; see {self.state / 'stack.err'}")
        self.url = f"http://127.0.0.1:{port}"

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def call(self, method, path, token=None, body=None):
        """(status, JSON body or None) of an API request."""
        request = urllib.request.Request(self.url + path, method=method)
        if token:
            request.add_header("authorization", f"Bearer {token}")
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
        if status != 200:
            fail(f"sign-in of {email}: {status} {pair}")
        return pair["access_token"]


def scopes_of(token):
    """The `scope` claim of an access token (read, not verified: the gateway verifies)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims["scope"].split()


def people(stack):
    """A token per role: the bootstrap admin's, and one each for accounts the admin creates."""
    admin = stack.sign_in(*admin_credentials())
    tokens = {"admin": admin}
    for role in ROLES:
        email = f"contract-{role}-{STAMP}@popug.test"
        password = f"{role}-contract-pass-{STAMP[-6:]}"
        status, body = stack.call("POST", "/accounts", admin, {
            "email": email, "full_name": f"Contract {role.title()}", "role": role, "password": password})
        if status != 201:
            fail(f"creating the {role}: {status} {body}")
        tokens[role] = stack.sign_in(email, password)
    return tokens


def seed(stack, tokens):
    """Every context knows every role's account (each keeps its own copy, from the events), and
    the links have something to find: a task (once the worker reached the tracker's pool) and a
    service type to order."""
    deadline = time.monotonic() + 30
    for role, token in tokens.items():
        employee = ("/tasks/mine", "/accounting/me") if role != "client" else ()
        for path in ("/auth/me", "/notifications/mine", *employee):
            while (answer := stack.call("GET", path, token))[0] != 200:
                if time.monotonic() > deadline:
                    fail(f"{role}: GET {path} answers {answer}")
                time.sleep(0.25)
    kind = {"name": "Contract seed", "base_price_cents": 12000, "required_skill": "carpets", "duration_minutes": 60}
    status, body = stack.call("POST", "/orders/service-types", tokens["manager"], kind)
    if status != 201:
        fail(f"seeding a service type: {status} {body}")
    while True:
        status, body = stack.call("POST", "/tasks", tokens["manager"], {"title": "Contract seed", "jira_id": "SEED-1"})
        if status == 201:
            return
        if status != 409 or time.monotonic() > deadline:
            fail(f"seeding a task: {status} {body}")
        time.sleep(0.25)


def operations():
    """Every documented operation ("GET /tasks") and the scopes it admits, one list per security
    requirement (any one will do: OpenAPI's "or"); None for a public one."""
    document = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    found = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            requirements = operation.get("security") or []
            found[f"{method.upper()} {path}"] = [r["ates_jwt"] for r in requirements] or None
    return found


def admits(needed, scopes):
    """Whether a token with `scopes` meets one of an operation's requirements."""
    return any(set(requirement) <= set(scopes) for requirement in needed)


def schemathesis(stack, plan_file):
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(HERE / "schemathesis.toml"),
        "run", str(ROOT / "openapi.yaml"), "--url", stack.url,
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(EXAMPLES), "--seed", str(SEED),
        "--generation-database", "none", "--workers", "1", "--request-timeout", "30", "--no-color",
        # Two shared cores run the stack and the generator: slow generation is not what is tested.
        "--suppress-health-check", "too_slow",
        "--report", "ndjson", "--report-ndjson-path", str(OUT / "events.ndjson"),
        *os.environ.get("ATES_CONTRACT_ARGS", "").split(),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "hooks", "ATES_CONTRACT_PLAN": str(plan_file),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))}
    with open(OUT / "schemathesis.txt", "w") as output:
        try:
            run = subprocess.run(command, cwd=OUT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                 timeout=TIME_LIMIT_S)
        except subprocess.TimeoutExpired:
            fail(f"schemathesis did not finish within {TIME_LIMIT_S} s; see {OUT / 'schemathesis.txt'}")
    return run.returncode


def reached_function(line):
    """Whether the function answered (API Gateway's own answers are `{"message"}`, never a 2xx)."""
    return 200 <= line["status"] < 300 or line["content_type"].startswith("application/problem+json")


def check_identities(log_file, plan):
    """Every signed-in route: an admitted role reached the function, every refused identity was
    stopped by API Gateway (and was tried at all)."""
    calls = defaultdict(list)
    for line in log_file.read_text().splitlines():
        entry = json.loads(line)
        calls[entry["operation"]].append(entry)
    problems = []
    for operation, needed in sorted(plan["operations"].items()):
        admitted = {r for r, scopes in plan["scopes"].items() if admits(needed, scopes)}
        seen = calls.get(operation, [])
        if not seen and os.environ.get("ATES_CONTRACT_ARGS"):
            continue  # left out by the options given
        if not any(c["identity"] in admitted and reached_function(c) for c in seen):
            problems.append(f"{operation}: no admitted role ({', '.join(sorted(admitted))}) got past the gateway")
        refused = [c for c in seen if c["identity"] not in admitted]
        if not refused:
            problems.append(f"{operation}: never tried by a role or caller it refuses")
        for c in refused:
            if reached_function(c):
                problems.append(f"{operation}: {c['identity']} got {c['status']} past the gateway")
                break
    return calls, problems


def main():
    if shutil.which("schemathesis", path=str(Path(sys.executable).parent)) is None:
        fail("schemathesis is not installed (make venv)")
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    started = time.monotonic()
    stack = Stack()
    try:
        tokens = people(stack)
        seed(stack, tokens)
        plan = {
            "tokens": tokens,
            "scopes": {role: scopes_of(token) for role, token in tokens.items()},
            "operations": {op: scopes for op, scopes in operations().items() if scopes is not None},
            "log": str(OUT / "calls.jsonl"),
        }
        plan_file = OUT / "plan.json"
        plan_file.write_text(json.dumps(plan))
        (OUT / "calls.jsonl").touch()
        ready = time.monotonic()
        code = schemathesis(stack, plan_file)
        fuzzed = time.monotonic() - ready
    finally:
        stack.stop()

    output = (OUT / "schemathesis.txt").read_text()
    calls, problems = check_identities(OUT / "calls.jsonl", plan)
    documented = operations()
    requests = sum(len(c) for c in calls.values())
    to_documented = sum(len(c) for op, c in calls.items() if op in documented)
    if code != 0:
        print(output)
    if problems:
        print("contract: roles:\n  " + "\n  ".join(problems), file=sys.stderr)
    if code != 0 or problems:
        fail(f"failed (schemathesis exit {code}); seed {SEED}; the report is in {OUT}, "
             f"the stack's logs in {stack.state}")
    shutil.rmtree(stack.state, ignore_errors=True)
    summary = [line for line in output.splitlines() if line.startswith("=") and " in " in line]
    print(f"contract: {requests} requests ({to_documented} to the {len(documented)} documented operations, "
          f"the rest undeclared methods), as 5 roles and none; seed {SEED}, {EXAMPLES} examples per operation; "
          f"schemathesis {fuzzed:.0f} s, all told {time.monotonic() - started:.0f} s "
          f"({summary[-1].strip('= ') if summary else 'no summary'})")


if __name__ == "__main__":
    main()
