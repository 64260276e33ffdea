#!/usr/bin/env bash
# Instructions the worker executes per request, counted by valgrind (callgrind): unlike
# req/s or CPU time, the count does not drift with the host's speed or load, so it
# compares an endpoint with the yardstick view across machines and sessions.
#
#   bench/instructions.sh                       # the yardstick, /api/users/me/, /api/referrals/
#   bench/instructions.sh /api/referrals/stats/
#   bench/instructions.sh /api/auth/phone/token/   # after bench/phone_codes.py --count 1000
#
# Needs valgrind and the database bench/run.sh seeds (kept after a run; DB_NAME). Each
# path runs bench/request_cpu.py twice, with 100 and with 300 timed requests, under
# callgrind; the difference over 200 is the cost of one request, start-up and warm-up
# cancelled out. Python CPU of the worker only: Postgres and Redis are not counted.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

DB_NAME="${DB_NAME:-referral_bench}"
BENCH_USER="${BENCH_USER:-2202}"  # seed 1's user with 1,100 direct referrals (run.sh)
export PYTHONPATH="$ROOT" DJANGO_SETTINGS_MODULE=bench.reference.settings
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/${DB_NAME}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export DJANGO_ALLOWED_HOSTS=127.0.0.1
export THROTTLE_USER=100000000/min THROTTLE_ANON=100000000/min THROTTLE_SYNC=100000000/min
export THROTTLE_LOGIN=100000000/min PHONE_CODE_TTL=3600

command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install -y valgrind)" >&2; exit 1; }

# The phone sign-in spends a fresh code per request: each run starts at its own phone
# number (BENCH_PHONE_FIRST, then 400 on).
PHONE_FIRST="${BENCH_PHONE_FIRST:-0}"
instructions() {  # $1 requests, $2 path -> total instructions of the whole run
  BENCH_PHONE_FIRST=$((PHONE_FIRST + ($1 > 100 ? 400 : 0))) \
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    .venv/bin/python bench/request_cpu.py --user "$BENCH_USER" --requests "$1" "$2" 2>&1 \
    | sed -n 's/.*Collected : //p'
}

if [[ $# -eq 0 ]]; then
  set -- /bench/reference/ /api/users/me/ /api/referrals/
fi
for path in "$@"; do
  fewer=$(instructions 100 "$path")
  more=$(instructions 300 "$path")
  printf '%-28s %10d instructions per request\n' "$path" $(((more - fewer) / 200))
done
