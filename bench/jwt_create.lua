-- wrk script: POST /api/auth/jwt/create/ with one benchmark user's credentials.
--   BENCH_EMAIL=user1@demo.example wrk -s bench/jwt_create.lua http://127.0.0.1:8100/api/auth/jwt/create/
local email = os.getenv("BENCH_EMAIL")
local password = os.getenv("BENCH_PASSWORD") or "demo-password"
if not email then
  error("set BENCH_EMAIL")
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"email": "%s", "password": "%s"}', email, password)
