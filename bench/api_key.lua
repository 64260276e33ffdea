-- wrk script: send the change queue's X-API-Key on every request.
--   BENCH_API_KEY=... wrk -s bench/api_key.lua 'http://127.0.0.1:8100/api/users/batch/?uuids=...'
local key = os.getenv("BENCH_API_KEY")
if not key then
  error("set BENCH_API_KEY")
end
wrk.headers["X-API-Key"] = key
