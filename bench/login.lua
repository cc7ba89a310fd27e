-- wrk script: every request is a full sign-in (Argon2id verification and a new session).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"login":"bench","password":"bench password 2026"}'
