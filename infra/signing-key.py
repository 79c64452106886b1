#!/usr/bin/env python3
"""The issuer's signing keys: the operator's command to create and rotate them (README).

    infra/signing-key.py rotate [--lead SECONDS] [--retire-now]
    infra/signing-key.py show

Two secrets hold the keys (template.yaml):
- ates/auth/signing-key (AuthSigningKey): the private ring {"keys": [{kid, private_key_pem, n,
  e, not_before}, ...]}, read by the functions that sign (sign-in, refresh, code sign-in);
- ates/auth/public-keys (AuthPublicKeys): the JWKS {"keys": [{kty, use, alg, kid, n, e}, ...]},
  the public halves only, served at /.well-known/jwks.json by a function that cannot read the
  private ring.

`rotate` makes a new RSA key (openssl) that starts signing `--lead` seconds from now (600 by
default; the first key signs at once), keeps the keys whose tokens may still be alive, drops
the retired ones, and writes the public keys first, then the ring. Until `not_before` the new
key is only published, so API Gateway and every other verifier know it before the first
token it signs arrives; the key it replaces stays published until every token it signed has
expired. Signers re-read the ring within KEYS_CACHE_SECONDS (60): no redeploy.

The lead must be longer than the signers' and the JWKS function's cache (KEYS_CACHE_SECONDS)
plus the JWKS's own HTTP max-age (300 s). `--retire-now` is for a leaked key: the new key
signs at once and every older key is dropped, so tokens they signed are refused (sign in again).

Needs boto3 (`python3 -m pip install boto3`; SAM's CLI brings it) and openssl. The usual AWS
settings apply (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL for the local stack's emulator).
"""

import argparse
import base64
import json
import secrets
import subprocess
import sys
import time

# The access token's lifetime (functions/auth/src/issuer.rs ACCESS_TOKEN_SECONDS), and how long
# signers may still use a key after its successor's time has come (their cache, with room).
ACCESS_TOKEN_SECONDS = 15 * 60
SIGNER_CACHE_ALLOWANCE = 5 * 60
DEFAULT_LEAD = 10 * 60


def new_key():
    pem = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        check=True, capture_output=True, text=True,
    ).stdout
    modulus = subprocess.run(
        ["openssl", "rsa", "-noout", "-modulus"],
        input=pem, check=True, capture_output=True, text=True,
    ).stdout.strip().split("=", 1)[1]
    n = base64.urlsafe_b64encode(bytes.fromhex(modulus)).rstrip(b"=").decode()
    kid = time.strftime("%Y%m%d%H%M%S", time.gmtime()) + "-" + secrets.token_hex(4)
    return {"kid": kid, "private_key_pem": pem, "n": n, "e": "AQAB"}


def read_ring(text):
    """The ring a secret holds: {"keys": [...]}, or one bare key as first deployments wrote it."""
    if not text:
        return []
    stored = json.loads(text)
    keys = stored["keys"] if "keys" in stored else [stored]
    for key in keys:
        key.setdefault("not_before", 0)
    return sorted(keys, key=lambda k: k["not_before"])


def still_needed(keys, now):
    """The keys that may still verify a live token: every key but those whose successor has been
    signing for longer than a token lives (plus the signers' cache)."""
    kept = []
    for i, key in enumerate(keys):
        successors = keys[i + 1:]
        retired = any(
            s["not_before"] + ACCESS_TOKEN_SECONDS + SIGNER_CACHE_ALLOWANCE <= now for s in successors
        )
        if not retired:
            kept.append(key)
    return kept


def rotate(keys, key, now, lead, retire_now):
    """The ring after adding `key` at `now`, oldest first."""
    if retire_now:
        return [dict(key, not_before=now)]
    kept = still_needed(keys, now)
    return kept + [dict(key, not_before=now + lead if kept else now)]


def public_jwks(keys):
    return {"keys": [
        {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k["kid"], "n": k["n"], "e": k["e"]}
        for k in keys
    ]}


def describe(keys, now):
    signing = [k for k in keys if k["not_before"] <= now]
    current = signing[-1]["kid"] if signing else keys[0]["kid"] if keys else None
    for k in keys:
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(k["not_before"]))
        role = "signs now" if k["kid"] == current else (
            "next" if k["not_before"] > now else "kept for tokens it signed")
        print(f"  {k['kid']}  not_before {when}  {role}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["rotate", "show"])
    parser.add_argument("--secret-id", default="ates/auth/signing-key")
    parser.add_argument("--public-keys-id", default="ates/auth/public-keys")
    parser.add_argument("--lead", type=int, default=DEFAULT_LEAD,
                        help="seconds between publishing the new key and its first signature")
    parser.add_argument("--retire-now", action="store_true",
                        help="a leaked key: sign with the new key at once and drop every other")
    args = parser.parse_args()

    import boto3  # only here: --help works without it

    client = boto3.client("secretsmanager")
    try:
        text = client.get_secret_value(SecretId=args.secret_id).get("SecretString")
    except client.exceptions.ResourceNotFoundException:
        text = None  # the template made the secret; nothing was put in it yet
    keys = read_ring(text)
    if args.command == "show":
        describe(keys, int(time.time()))
        return
    key = new_key()
    # The lead counts from now, when the key is about to be published (making it takes a while).
    now = int(time.time())
    ring = rotate(keys, key, now, args.lead, args.retire_now)
    # Published before it can sign; the old keys stay published until they are dropped here.
    client.put_secret_value(SecretId=args.public_keys_id, SecretString=json.dumps(public_jwks(ring)))
    client.put_secret_value(SecretId=args.secret_id, SecretString=json.dumps({"keys": ring}))
    print(f"rotated {args.secret_id}; published {args.public_keys_id}:")
    describe(ring, now)


if __name__ == "__main__":
    sys.exit(main())
