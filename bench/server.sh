# Sourced by the benchmark scripts: starts and stops the renkei server under test.
# Uses the caller's $bin (the binary), $work (a scratch folder) and $PORT; extra environment
# for the server goes in the array SERVER_ENV (NAME=value words), when the caller sets it;
# SERVER_LOG is its log filter (RENKEI_LOG, default warn).
# Starts a server (extra arguments: storage flags) and sets server_pid; on an empty database
# also sets password, the first administrator's one-time password.
start_server() {
  local name=$1; shift
  env RENKEI_LOGIN_ATTEMPTS_PER_MINUTE=100000000 RENKEI_LOG="${SERVER_LOG:-warn}" ${SERVER_ENV[@]+"${SERVER_ENV[@]}"} \
    "$bin" serve --data-dir "$work/$name" --listen "127.0.0.1:$PORT" "$@" \
    >"$work/$name.out" 2>>"$work/$name.err" &
  server_pid=$!
  for _ in $(seq 300); do
    grep -q "renkei listening" "$work/$name.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/$name.err" >&2; exit 1; }
    sleep 0.1
  done
  local printed
  printed=$(sed -n 's/^ *password: *//p' "$work/$name.out")
  [[ -z $printed ]] || password=$printed
}

stop_server() {
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
