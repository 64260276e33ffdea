#!/usr/bin/env bash
# Seed a fresh Postgres database, serve it with gunicorn and measure the API.
#
#   bench/run.sh                     # 1,000,000 users
#   USERS=100000 bench/run.sh        # a quicker run
#
# Knobs (environment): USERS, SEED, DB_NAME (dropped and re-created!), PORT, OUT (where
# the logs and JSON go), REQUESTS (per latency endpoint), DURATION (per wrk run),
# REDIS_URL, REUSE_DB=1 (measure again on the database and $OUT/seed.json of an earlier
# run instead of re-seeding). Everything talks to 127.0.0.1 only; gunicorn is stopped on
# exit.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

USERS="${USERS:-1000000}"
SEED="${SEED:-1}"
DB_NAME="${DB_NAME:-referral_bench}"
PORT="${PORT:-8100}"
OUT="${OUT:-/tmp/referral-bench}"
REQUESTS="${REQUESTS:-200}"
DURATION="${DURATION:-10s}"
REUSE_DB="${REUSE_DB:-0}"
BASE_URL="http://127.0.0.1:${PORT}"
PY=.venv/bin/python

export DATABASE_URL="postgres://postgres@127.0.0.1:5432/${DB_NAME}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export DJANGO_ALLOWED_HOSTS=127.0.0.1
export DJANGO_DEBUG=false
# The throttles would answer 429 long before the server is saturated.
export THROTTLE_USER=1000000/min THROTTLE_ANON=1000000/min
export THROTTLE_LOGIN=1000000/min THROTTLE_CODE_LOOKUP=1000000/min THROTTLE_SYNC=1000000/min
# The tokens are taken once, before the first measurement, and must outlive the run.
export JWT_ACCESS_MINUTES=60
# The phone sign-in codes are stored before their measurement and must outlive it.
export PHONE_CODE_TTL=3600
PHONE_CODES="${PHONE_CODES:-30000}"

mkdir -p "$OUT"
GUNICORN_PID=""

stop_gunicorn() {
  if [[ -n "$GUNICORN_PID" ]] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID"
    for _ in $(seq 1 50); do
      kill -0 "$GUNICORN_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -0 "$GUNICORN_PID" 2>/dev/null && kill -KILL "$GUNICORN_PID"
    wait "$GUNICORN_PID" 2>/dev/null || true
    echo "gunicorn stopped"
  fi
}
trap stop_gunicorn EXIT INT TERM

section() { printf '\n=== %s ===\n' "$*"; }

# The host is shared: other work changes every figure below, so each measurement is
# bracketed by CPU snapshots (bench/cpu.py) that say who used the CPUs meanwhile.
cpu_snapshot() { $PY bench/cpu.py snapshot --gunicorn "$GUNICORN_PID" >"$OUT/cpu-$1.json"; }
cpu_report() {
  local name="$1"
  shift
  $PY bench/cpu.py report "$OUT/cpu-${name}-before.json" "$OUT/cpu-${name}-after.json" "$@"
}

section "Machine"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "nproc: $(nproc)"
  grep -m1 'model name' /proc/cpuinfo || true
  free -h
  echo "postgres: $(psql -h 127.0.0.1 -U postgres -tAc 'show server_version')"
  echo "redis: $(redis-cli -h 127.0.0.1 INFO server | grep -m1 redis_version | tr -d '\r')"
  echo "python: $($PY --version)"
  echo "wrk: $(wrk --version 2>&1 | head -1)"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

if [[ "$REUSE_DB" == 1 ]]; then
  [[ -f "$OUT/seed.json" ]] || { echo "REUSE_DB=1 needs $OUT/seed.json" >&2; exit 1; }
  section "Reusing ${DB_NAME} and ${OUT}/seed.json"
  $PY manage.py migrate --no-input -v 0  # the code may have moved on since it was seeded
else
  section "Database ${DB_NAME}"
  dropdb -h 127.0.0.1 -U postgres --if-exists "$DB_NAME"
  createdb -h 127.0.0.1 -U postgres "$DB_NAME"
  $PY manage.py migrate --no-input -v 0

  section "seed_demo --users ${USERS}"
  { time $PY manage.py seed_demo --users "$USERS" --seed "$SEED" --report "$OUT/seed.json"; } \
    2>&1 | tee "$OUT/seed.log"
fi

section "gunicorn on ${BASE_URL}"
# bench.reference.settings is config.settings with two reference views routed in front
# of the service's URLs (bench/reference/): the yardsticks the targets are stated against.
DJANGO_SETTINGS_MODULE=bench.reference.settings \
  .venv/bin/gunicorn config.wsgi -w 2 -b "127.0.0.1:${PORT}" >"$OUT/gunicorn.log" 2>&1 &
GUNICORN_PID=$!
for attempt in $(seq 1 100); do
  curl -fsS -o /dev/null "${BASE_URL}/api/healthcheck/" 2>/dev/null && break
  if [[ "$attempt" == 100 ]] || ! kill -0 "$GUNICORN_PID" 2>/dev/null; then
    echo "gunicorn did not come up:" >&2
    cat "$OUT/gunicorn.log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "up (pid ${GUNICORN_PID})"

section "Latency: ${REQUESTS} sequential requests per endpoint"
cpu_snapshot latency-before
$PY bench/latency.py --seed-report "$OUT/seed.json" --base-url "$BASE_URL" \
  --requests "$REQUESTS" --tokens "$OUT/tokens.json" --out "$OUT/latency.json" \
  | tee "$OUT/latency.txt"
cpu_snapshot latency-after
cpu_report latency | tee -a "$OUT/latency.txt"

# json_get FILE KEY [KEY...]: one value out of a JSON file.
json_get() {
  $PY -c 'import json, sys
value = json.load(open(sys.argv[1]))
for key in sys.argv[2:]:
    value = value[key]
print(value)' "$@"
}
# /api/referrals/ and /api/users/me/ as the user with about 1,000 direct referrals.
TOKEN="$(json_get "$OUT/tokens.json" about_1000_referrals)"
EMAIL="$(json_get "$OUT/seed.json" about_1000_referrals email)"

run_wrk() {
  local name="$1"
  shift
  section "Throughput: ${name} (wrk -t2 -c16 -d${DURATION})"
  cpu_snapshot "${name}-before"
  /usr/bin/time -f '%U %S' -o "$OUT/wrk-${name}.cpu" \
    wrk -t2 -c16 -d"$DURATION" --timeout 10s --latency "$@" | tee "$OUT/wrk-${name}.txt"
  cpu_snapshot "${name}-after"
  cpu_report "$name" --client-cpu "$OUT/wrk-${name}.cpu" \
    --requests "$(awk '/ requests in / {print $1}' "$OUT/wrk-${name}.txt")" \
    | tee -a "$OUT/wrk-${name}.txt"
}
run_wrk reference -H "Authorization: Bearer ${TOKEN}" "${BASE_URL}/bench/reference/"
run_wrk referrals -H "Authorization: Bearer ${TOKEN}" "${BASE_URL}/api/referrals/"
run_wrk me -H "Authorization: Bearer ${TOKEN}" "${BASE_URL}/api/users/me/"
BENCH_EMAIL="$EMAIL" run_wrk jwt_create -s bench/jwt_create.lua "${BASE_URL}/api/auth/jwt/create/"

# Phone sign-in with a fresh valid code per request (bench/phone_codes.py stores them,
# bench/phone_token.lua walks through them): phones that have an account (created:
# false), then new phones (created: true), right after a yardstick run of their own.
section "Phone sign-in codes: ${PHONE_CODES} for accounts, ${PHONE_CODES} for new phones"
$PY bench/phone_codes.py --first 0 --count "$PHONE_CODES" --accounts
# New phones: after the ones an earlier run on this database signed up (REUSE_DB=1).
SIGNUP_FIRST="$($PY bench/phone_codes.py --first new --count "$PHONE_CODES" | tail -1)"
export BENCH_THREADS=2 BENCH_PHONE_COUNT="$PHONE_CODES"
run_wrk reference_phone -H "Authorization: Bearer ${TOKEN}" "${BASE_URL}/bench/reference/"
BENCH_PHONE_FIRST=0 run_wrk phone_signin -s bench/phone_token.lua \
  "${BASE_URL}/api/auth/phone/token/"
BENCH_PHONE_FIRST="$SIGNUP_FIRST" run_wrk phone_signup -s bench/phone_token.lua \
  "${BASE_URL}/api/auth/phone/token/"

# The change queue: a key of its own, 100 random users for the batch.
export BENCH_API_KEY
BENCH_API_KEY="$($PY manage.py create_api_key "bench $(date -u +%FT%T)" | awk '{print $NF}' | tail -1)"
UUIDS="$(psql -h 127.0.0.1 -U postgres "$DB_NAME" -tAc \
  "SELECT string_agg(uuid::text, ',') FROM (SELECT uuid FROM users_user ORDER BY random() LIMIT 100) s")"
run_wrk batch_reference "${BASE_URL}/bench/reference/batch/?uuids=${UUIDS}"
run_wrk batch -s bench/api_key.lua "${BASE_URL}/api/users/batch/?uuids=${UUIDS}"

section "Full export: GET /api/user-sync/?since=0"
worker_rss() {
  for pid in $(pgrep -P "$GUNICORN_PID"); do
    printf 'worker %s: %s\n' "$pid" "$(grep -E '^(VmRSS|VmHWM)' "/proc/$pid/status" | tr -s ' \n' ' ')"
  done
}
{
  echo "before:"; worker_rss
  for run in 1 2 3; do
    curl -fsS -o "$OUT/export.json" -H "X-API-Key: ${BENCH_API_KEY}" \
      -w "run ${run}: %{time_total} s, first byte %{time_starttransfer} s, %{size_download} bytes\n" \
      "${BASE_URL}/api/user-sync/?since=0"
  done
  echo "UUIDs in the last answer: $($PY -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["results"]))' "$OUT/export.json")"
  echo "after:"; worker_rss
} | tee "$OUT/export.txt"

section "Summary"
if [[ -f "$OUT/seed.log" ]]; then
  grep -E '^(real|user|sys)' "$OUT/seed.log" | sed 's/^/seed_demo /'
fi
cat "$OUT/latency.txt"
cat "$OUT/export.txt"
for name in reference referrals me jwt_create reference_phone phone_signin phone_signup \
  batch_reference batch; do
  rps="$(awk '/^Requests\/sec:/ {print $2}' "$OUT/wrk-${name}.txt")"
  errors="$(grep -E 'Non-2xx|Socket errors' "$OUT/wrk-${name}.txt" | tr '\n' ' ' || true)"
  printf '%-12s %10s req/s  %s\n' "$name" "$rps" "$errors"
  grep -E '^(machine over|server CPU)' "$OUT/wrk-${name}.txt" | sed 's/^/             /'

done
rps_of() { awk '/^Requests\/sec:/ {print $2}' "$OUT/wrk-$1.txt"; }
for name in phone_signin phone_signup; do
  $PY -c 'import sys; print(f"{sys.argv[1]}: {float(sys.argv[2]) / float(sys.argv[3]):.2f} of the yardstick")' \
    "$name" "$(rps_of "$name")" "$(rps_of reference_phone)"
done
echo "Results in ${OUT}; the database ${DB_NAME} is kept (dropdb -h 127.0.0.1 -U postgres ${DB_NAME})."
