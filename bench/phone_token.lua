-- wrk script: POST /api/auth/phone/token/ with a fresh valid code on every request.
--   BENCH_PHONE_FIRST=0 BENCH_PHONE_COUNT=20000 BENCH_THREADS=2 wrk -t2 -s bench/phone_token.lua \
--     http://127.0.0.1:8100/api/auth/phone/token/
-- Phone +79990000000 + i has the code i mod 10^6 (six digits), as bench/phone_codes.py
-- stored them. Thread t of T sends i = first + t, first + t + T, …: no code twice. Past
-- the last code the requests would answer 400, and wrk counts them as non-2xx.
local base = 79990000000
local first = tonumber(os.getenv("BENCH_PHONE_FIRST") or "0")
local count = tonumber(os.getenv("BENCH_PHONE_COUNT"))
if not count then
  error("set BENCH_PHONE_COUNT")
end

-- wrk starts each thread right after its setup(), so the stride cannot be counted there.
local stride = tonumber(os.getenv("BENCH_THREADS") or "2")
local threads = 0
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
  if threads > stride then
    error("more wrk threads than BENCH_THREADS")
  end
end

local sent = 0
function request()
  local i = first + offset + sent * stride
  sent = sent + 1
  if i >= first + count then
    i = first + count - 1 -- out of codes: refused, and counted as non-2xx
  end
  local body = string.format('{"phone": "+%.0f", "code": "%06d"}', base + i, i % 1000000)
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
