-- wrk script: POST /api/v1/auth/login with the benchmark user's credentials
-- (BENCH_LOGIN / BENCH_PASSWORD from the environment).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"login":"%s","password":"%s"}',
  os.getenv("BENCH_LOGIN"), os.getenv("BENCH_PASSWORD"))
