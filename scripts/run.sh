#!/usr/bin/env bash
# Start the action server (:5055), Rasa (:5005, :5006) and the gateway (:8000), wait until all answer, and
# stop them all on Ctrl-C, or when one of them stops.
# Usage: scripts/run.sh   (make run installs and trains first, then calls it)
#        GATEWAYS=2 REDIS_URL=redis://127.0.0.1:6379/0 scripts/run.sh   (make run-scaled): GATEWAYS gateways on
#        :8001, :8002, … sharing Redis, behind Debian's HAProxy on :8000 (bot/balancer.py, docs/deploy.md)
set -euo pipefail
cd "$(dirname "$0")/.."
# Everything the stack writes (the database and its WAL, logs, tokens, the personal-data key) is readable by
# this user only: it holds citizens' words.
umask 077

[ -f .env ] && set -a && . ./.env && set +a
if [ -z "${RASA_TOKEN:-}" ]; then
  # A new token for each start, kept where `python -m bot.retrain` finds it (readable by this user only).
  RASA_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')
  (umask 077 && printf '%s\n' "$RASA_TOKEN" > .rasa-token)
fi
export RASA_TOKEN
# The secret Rasa sends the action server with every call (endpoints.yml): a new one for each start.
if [ -z "${ACTIONS_TOKEN:-}" ]; then
  ACTIONS_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')
fi
export ACTIONS_TOKEN
export DATABASE_URL="${DATABASE_URL:-sqlite:///$PWD/minwon.db}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" RASA_TELEMETRY_ENABLED="${RASA_TELEMETRY_ENABLED:-false}"
mkdir -p logs
pids=()
stop() {
  trap - INT TERM EXIT
  echo "Stopping…"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# The action server on 127.0.0.1:5055 (ACTIONS_HOST, ACTIONS_PORT), answering only calls with ACTIONS_TOKEN.
.venv/bin/python -m actions >logs/actions.log 2>&1 &
pids+=($!)
# RASA_SERVERS Rasa servers (default 2, one per core; each holds the model, about 0.75 GB) on 5005, 5006, …
# share the conversations (bot/rasa.py). bot.rasa_server is `rasa` with a faster check of the action
# server's replies and models loaded off the event loop (see its docstring).
servers=()
for ((i = 0; i < ${RASA_SERVERS:-2}; i++)); do
  port=$((5005 + i))
  # The API token comes from RASA_TOKEN (exported above), not the command line, which `ps` shows anyone.
  .venv/bin/python -m bot.rasa_server run --model models/minwon.tar.gz --enable-api \
    --interface 127.0.0.1 --port "$port" --endpoints endpoints.yml --credentials credentials.yml \
    >"logs/rasa-$port.log" 2>&1 &
  pids+=($!)
  servers+=("http://127.0.0.1:$port")
done
RASA_URL="${RASA_URL:-$(IFS=,; echo "${servers[*]}")}"
export RASA_URL
# Kept where `python -m bot.retrain` finds them, so that a new model goes into every server.
printf '%s\n' "$RASA_URL" > .rasa-url

# curl reads the address from its standard input: an address with the token must not be on a command line.
fetch() {  # url [curl options…]
  local url=$1; shift
  printf 'url = "%s"\n' "$url" | curl -fsS -K - "$@"
}
wait_for() {  # name url
  for _ in $(seq 1 180); do
    if fetch "$2" >/dev/null 2>&1; then echo "$1 is up"; return 0; fi
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "$1 stopped; see logs/" >&2; exit 1; }
    done
    sleep 1
  done
  echo "$1 did not answer within 3 minutes; see logs/" >&2
  exit 1
}
wait_for "action server (:5055)" http://127.0.0.1:5055/health
for server in "${servers[@]}"; do
  wait_for "Rasa (${server#http://})" "$server/status?token=$RASA_TOKEN"
  # The Korean tokenizer starts its JVM on the first message: start it now, not while a citizen waits.
  fetch "$server/model/parse?token=$RASA_TOKEN" -X POST -d '{"text": "안녕하세요"}' >/dev/null
done
gateways=${GATEWAYS:-1}
if ((gateways == 1)); then
  .venv/bin/python -m bot >logs/gateway.log 2>&1 &
  pids+=($!)
  wait_for "gateway (:${PORT:-8000})" "http://${HOST:-127.0.0.1}:${PORT:-8000}/healthz"
else
  # Several gateways share what one would keep in memory through Redis; the balancer takes PORT.
  [ -n "${REDIS_URL:-}" ] || { echo "GATEWAYS=$gateways needs REDIS_URL (make run-scaled sets it)" >&2; exit 1; }
  export REDIS_URL
  backends=()
  for ((i = 1; i <= gateways; i++)); do
    port=$((${PORT:-8000} + i))
    PORT=$port .venv/bin/python -m bot >"logs/gateway-$port.log" 2>&1 &
    pids+=($!)
    backends+=(--gateway "${HOST:-127.0.0.1}:$port")
    wait_for "gateway (:$port)" "http://${HOST:-127.0.0.1}:$port/healthz"
  done
  .venv/bin/python -m bot.balancer --listen "${HOST:-127.0.0.1}:${PORT:-8000}" "${backends[@]}" >logs/haproxy.cfg
  haproxy -db -f logs/haproxy.cfg >logs/haproxy.log 2>&1 &
  pids+=($!)
  wait_for "load balancer (:${PORT:-8000})" "http://${HOST:-127.0.0.1}:${PORT:-8000}/livez"
fi

cat <<MSG

The bot is running. Talk to it:
  web chat:   http://${HOST:-127.0.0.1}:${PORT:-8000}/
  terminal:   make chat   (in another terminal)
Logs are in logs/. Ctrl-C stops everything.
MSG
wait -n
