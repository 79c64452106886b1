#!/usr/bin/env bash
# Prints a fresh RS256 signing key for the issuer, as the JSON the auth functions read from
# Secrets Manager: {"kid", "private_key_pem", "n", "e"}. Pipe it into put-secret-value (README).
set -euo pipefail
pem=$(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null)
modulus=$(printf '%s\n' "$pem" | openssl rsa -noout -modulus | cut -d= -f2)
kid=$(date -u +%Y%m%d%H%M%S)
python3 - "$kid" "$pem" "$modulus" <<'PY'
import base64, json, sys
kid, pem, modulus = sys.argv[1:]
n = base64.urlsafe_b64encode(bytes.fromhex(modulus)).rstrip(b"=").decode()
print(json.dumps({"kid": kid, "private_key_pem": pem + "\n", "n": n, "e": "AQAB"}))
PY
