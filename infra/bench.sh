#!/usr/bin/env bash
# Benchmarks (make bench): cold start of the release bootstraps against a hello-world Lambda,
# then task creation and a shuffle of TASKS open tasks, and the daily close of ACCOUNTS ledger
# accounts, on a private local stack running the release function binaries. Loopback only; it stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
TASKS=${TASKS:-10000}
LAMBDA=target/lambda                 # cargo lambda build --release puts <binary>/bootstrap here

"$LAMBDA/ates-bench/bootstrap" coldstart --runs "${RUNS:-30}" --dir "$LAMBDA"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
state=$(mktemp -d)
fifo="$state/stdin"; mkfifo "$fifo"
target/debug/ates-local --port "$port" --bin-dir "$LAMBDA" --state-dir "$state" --exit-with-stdin \
  < "$fifo" > "$state/stack.out" 2>&1 &
exec 3> "$fifo"                      # closing fd 3 (when this script ends) stops the stack
for _ in $(seq 1 240); do grep -q "local stack ready at" "$state/stack.out" && break; sleep 0.5; done
grep -q "local stack ready at" "$state/stack.out" || { cat "$state/stack.out"; exit 1; }
"$LAMBDA/ates-bench/bootstrap" tasks --tasks "$TASKS" --api "http://127.0.0.1:$port"
"$LAMBDA/ates-bench/bootstrap" close --accounts "${ACCOUNTS:-10000}" --api "http://127.0.0.1:$port"
exec 3>&-
