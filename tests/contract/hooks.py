"""Schemathesis hooks of the contract run (loaded through SCHEMATHESIS_HOOKS by run_schemathesis.py).

Who calls: every generated request of a signed-in route goes as one of four employees (admin,
manager, accountant, worker), chosen in turn per operation so that each route is reached both
by roles its scopes admit and by roles they refuse. Of every four requests of an operation three
go as an admitted role (in turn) and the fourth as a refused one (in turn), or without a token
where every role is admitted. What each request got is written to a log, one JSON line each;
the runner checks from it that every admitted role got past API Gateway and no refused one did.

The run's facts come from the file named by ATES_CONTRACT_PLAN (written by the runner): the
tokens by role, the scopes each token carries, the scopes each operation needs, the log's path.
"""

import json
import os
import threading

import schemathesis

PLAN = json.loads(open(os.environ["ATES_CONTRACT_PLAN"]).read())
TOKENS = PLAN["tokens"]  # role -> access token
ROLE_OF_TOKEN = {token: role for role, token in TOKENS.items()}
ANONYMOUS = "anonymous"
_lock = threading.Lock()
_turns = {}
_log = open(PLAN["log"], "a", buffering=1)


def label(method, path):
    return f"{method.upper()} {path}"


def cast(operation):
    """(admitted, refused) identities of a signed-in operation; None for a public one."""
    needed = PLAN["operations"].get(operation)
    if needed is None:
        return None
    # One list of scopes per security requirement; any one requirement admits.
    admitted = [r for r, scopes in PLAN["scopes"].items()
                if any(set(requirement) <= set(scopes) for requirement in needed)]
    refused = [r for r in PLAN["scopes"] if r not in admitted] + [ANONYMOUS]
    return admitted, refused


def next_identity(operation):
    roles = cast(operation)
    if roles is None:
        return None
    admitted, refused = roles
    with _lock:
        turn = _turns.get(operation, 0)
        _turns[operation] = turn + 1
    rounds, slot = divmod(turn, 4)
    if slot < 3:
        return admitted[(rounds * 3 + slot) % len(admitted)]
    return refused[rounds % len(refused)]


@schemathesis.auth(refresh_interval=None)
class ByRole:
    """The next identity's token for this operation (none for a public route or `anonymous`)."""

    def get(self, case, context):
        return next_identity(label(context.operation.method, context.operation.path))

    def set(self, case, identity, context):
        if identity is None or identity == ANONYMOUS:
            return
        case.headers = dict(case.headers or {})
        case.headers["Authorization"] = f"Bearer {TOKENS[identity]}"


@schemathesis.hook
def after_call(context, case, response):
    sent = response.request.headers.get("Authorization", "")
    token = sent.removeprefix("Bearer ")
    identity = ROLE_OF_TOKEN.get(token, ANONYMOUS if not sent else "other")
    _log.write(json.dumps({
        "operation": label(case.method, case.operation.path),
        "identity": identity,
        "status": response.status_code,
        "content_type": (response.headers.get("content-type") or [""])[0],
    }) + "\n")
