# Helpers for the end-to-end checks: start a --simulate gateway on a free port and stop it; check
# PNG files and the client examples. Sourced, not run. start_gateway sets GATEWAY_PORT and
# GATEWAY_PID; the caller's EXIT trap stops it.
BUILD_DIR="${BUILD_DIR:-build}"

start_gateway() {
  local dir="$1"; shift
  mkdir -p "$dir"
  "$BUILD_DIR/service/qwen-image-gateway" --simulate --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
    --data_dir="$dir/data" "$@" >"$dir/gateway.out" 2>"$dir/gateway.log" &
  GATEWAY_PID=$!
  GATEWAY_PORT=""
  for _ in $(seq 1 300); do
    GATEWAY_PORT=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$dir/gateway.out")
    [ -n "$GATEWAY_PORT" ] && return 0
    kill -0 "$GATEWAY_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "gateway did not start:"; cat "$dir/gateway.log"; return 1
}

stop_gateway() {
  [ -n "${GATEWAY_PID:-}" ] || return 0
  kill -TERM "$GATEWAY_PID" 2>/dev/null || true
  wait "$GATEWAY_PID" 2>/dev/null || true
}

# file_hex FILE OFFSET LENGTH: those bytes of FILE as lowercase hex.
file_hex() { od -An -tx1 -j"$2" -N"$3" "$1" | tr -d ' \n'; }

# check_pngs DIR COUNT WIDTH HEIGHT: DIR holds exactly COUNT files, each a whole PNG (signature,
# IHDR first, IEND last) of WIDTH x HEIGHT pixels as its IHDR says.
check_pngs() {
  local dir="$1" count="$2" width="$3" height="$4" f found=0
  for f in "$dir"/*; do
    [ -f "$f" ] || continue
    found=$((found + 1))
    if [ "$(file_hex "$f" 0 8)" != 89504e470d0a1a0a ] ||
       [ "$(file_hex "$f" 12 4)" != 49484452 ]; then
      echo "$f: not a PNG (signature or IHDR missing)"; return 1
    fi
    if [ "$(tail -c 12 "$f" | od -An -tx1 | tr -d ' \n')" != 0000000049454e44ae426082 ]; then
      echo "$f: truncated PNG (no IEND at the end)"; return 1
    fi
    local w=$((16#$(file_hex "$f" 16 4))) h=$((16#$(file_hex "$f" 20 4)))
    if [ "$w" != "$width" ] || [ "$h" != "$height" ]; then
      echo "$f: ${w}x${h}, want ${width}x${height}"; return 1
    fi
  done
  if [ "$found" != "$count" ]; then
    echo "$dir: $found files, want $count:"; ls -l "$dir"; return 1
  fi
}

# run_to DIR NAME CMD...: runs CMD with its output in DIR/NAME.{out,err}; its exit code in RUN_RC.
run_to() {
  local dir="$1" name="$2"; shift 2
  RUN_RC=0
  "$@" >"$dir/$name.out" 2>"$dir/$name.err" || RUN_RC=$?
}

# show_run DIR NAME: prints what run_to DIR NAME captured.
show_run() { echo "-- stdout"; cat "$1/$2.out"; echo "-- stderr"; cat "$1/$2.err"; }

# png_text FILE KEYWORD: the text of the PNG's tEXt chunk KEYWORD ("" if none).
png_text() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
at = 8
while at + 12 <= len(data):
    length, kind = struct.unpack(">I4s", data[at:at + 8])
    body = data[at + 8:at + 8 + length]
    if kind == b"tEXt" and body.split(b"\0", 1)[0] == sys.argv[2].encode():
        print(body.split(b"\0", 1)[1].decode())
        break
    at += 12 + length
PY
}

# check_client_example DIR CMD...: runs a client example (client/examples/*; CMD with its
# interpreter) against the started gateway: a free-size and a fixed-size model write whole PNGs of
# the requested size and count; the tenant metadata reaches the gateway; an edit of a stored result
# (by reference) and an uploaded file records both inputs by sha256 and upstream received them in
# order; an unknown model exits 2
# with INVALID_ARGUMENT; a task that ends FAILED exits 3 and writes nothing.
check_client_example() {
  local dir="$1"; shift
  local server="127.0.0.1:$GATEWAY_PORT" id saved

  run_to "$dir" free "$@" --server="$server" --tenant=e2e-client --model=qwen-image-2.0 \
    --prompt="a lighthouse at dusk" --size="1024*768" --n=2 --seed=7 --out="$dir/free"
  [ "$RUN_RC" = 0 ] || { echo "qwen-image-2.0 n=2: exit $RUN_RC"; show_run "$dir" free; return 1; }
  check_pngs "$dir/free" 2 1024 768 || { show_run "$dir" free; return 1; }
  grep -q "  SUCCEEDED  qwen-image-2.0$" "$dir/free.out" ||
    { echo "no SUCCEEDED line"; show_run "$dir" free; return 1; }
  # The task belongs to the tenant sent as metadata, and is NOT_FOUND (exit 5) for the default one.
  saved=("$dir"/free/*-0.png)
  id=$(basename "${saved[0]}" -0.png)
  run_to "$dir" get "$BUILD_DIR/client/qwen-image" --server="$server" --tenant=e2e-client get "$id"
  [ "$RUN_RC" = 0 ] || { echo "task $id is not the tenant's"; show_run "$dir" get; return 1; }
  run_to "$dir" get "$BUILD_DIR/client/qwen-image" --server="$server" get "$id"
  [ "$RUN_RC" = 5 ] || { echo "the default tenant sees task $id"; show_run "$dir" get; return 1; }

  run_to "$dir" fixed "$@" --server="$server" --model=qwen-image-plus --prompt="a red fox" \
    --size="928*1664" --out="$dir/fixed"
  [ "$RUN_RC" = 0 ] || { echo "qwen-image-plus: exit $RUN_RC"; show_run "$dir" fixed; return 1; }
  check_pngs "$dir/fixed" 1 928 1664 || { show_run "$dir" fixed; return 1; }

  # Editing: the tenant's image just generated, by reference, and an uploaded file, in order. The
  # task records both by sha256, and the result names them (the simulator's tEXt chunk).
  local upload want_ref want_file
  upload=$(ls "$dir"/fixed/*.png)
  want_ref=$(sha256sum "${saved[0]}" | cut -d' ' -f1)
  want_file=$(sha256sum "$upload" | cut -d' ' -f1)
  run_to "$dir" edit "$@" --server="$server" --tenant=e2e-client --model=qwen-image-2.0 \
    --prompt="put the fox of image 2 into image 1" --image="qwenimage://tasks/$id/images/0" \
    --image="$upload" --out="$dir/edit"
  [ "$RUN_RC" = 0 ] || { echo "edit: exit $RUN_RC"; show_run "$dir" edit; return 1; }
  grep -qx "input 1: sha256 $want_ref" "$dir/edit.out" &&
    grep -qx "input 2: sha256 $want_file" "$dir/edit.out" ||
    { echo "edit: the inputs are not recorded by sha256"; show_run "$dir" edit; return 1; }
  local received
  received=$(png_text "$(ls "$dir"/edit/*.png)" qwenimage-sim-inputs)
  [ "$received" = "$want_ref,$want_file" ] ||
    { echo "edit: upstream received '$received', want '$want_ref,$want_file'"; return 1; }

  run_to "$dir" invalid "$@" --server="$server" --model=no-such-model --prompt=x \
    --out="$dir/invalid"
  if [ "$RUN_RC" != 2 ] || ! grep -q "INVALID_ARGUMENT" "$dir/invalid.err"; then
    echo "unknown model: exit $RUN_RC, want 2 with INVALID_ARGUMENT"
    show_run "$dir" invalid; return 1
  fi

  run_to "$dir" failed "$@" --server="$server" --model=qwen-image-plus \
    --prompt="a fox [sim:task_fail=InternalError.Algo]" --out="$dir/failed"
  if [ "$RUN_RC" != 3 ] || ! grep -q "FAILED: InternalError.Algo" "$dir/failed.err"; then
    echo "failed task: exit $RUN_RC, want 3 with the task's error"; show_run "$dir" failed; return 1
  fi
  [ -z "$(ls -A "$dir/failed" 2>/dev/null)" ] || { echo "a failed task wrote files"; return 1; }
}

# make_test_certs DIR: a throwaway CA (DIR/ca.pem) and a server certificate it signed for
# 127.0.0.1 and localhost (DIR/server.pem, DIR/server.key), made with openssl.
make_test_certs() {
  local dir="$1"
  mkdir -p "$dir"
  {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj /CN=e2e-ca -keyout "$dir/ca.key" -out "$dir/ca.pem" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
      -keyout "$dir/server.key" -out "$dir/server.csr" &&
    printf '%s\n' basicConstraints=critical,CA:FALSE keyUsage=critical,digitalSignature \
      extendedKeyUsage=serverAuth subjectAltName=IP:127.0.0.1,DNS:localhost >"$dir/server.ext" &&
    openssl x509 -req -days 2 -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
      -set_serial "0x$(openssl rand -hex 8)" -extfile "$dir/server.ext" -out "$dir/server.pem"
  } >"$dir/openssl.log" 2>&1 </dev/null ||
    { echo "openssl failed:"; cat "$dir/openssl.log"; return 1; }
}

# make_tokens_file DIR: two random bearer tokens, DIR/token-a (tenant e2e-a, with a trailing
# newline as editors write it) and DIR/token-b (tenant e2e-b), and DIR/tokens.json mapping their
# SHA-256 to those tenants (the --tokens_file format).
make_tokens_file() {
  local dir="$1" a b
  mkdir -p "$dir"
  a="e2e-a-$(openssl rand -hex 16)"
  b="e2e-b-$(openssl rand -hex 16)"
  printf '%s\n' "$a" >"$dir/token-a"
  printf '%s' "$b" >"$dir/token-b"
  printf '{"tokens": [{"sha256": "%s", "tenant": "e2e-a", "name": "e2e-a"},
             {"sha256": "%s", "tenant": "e2e-b", "name": "e2e-b"}]}\n' \
    "$(printf %s "$a" | sha256sum | cut -d' ' -f1)" \
    "$(printf %s "$b" | sha256sum | cut -d' ' -f1)" >"$dir/tokens.json"
}

# check_client_example_tls DIR CA TOKENS_DIR CMD...: runs a client example over TLS
# (--tls_ca=CA) with a bearer token from make_tokens_file TOKENS_DIR against the started gateway
# (--tls_cert/--tls_key, --auth=tokens --tokens_file=TOKENS_DIR/tokens.json): --token_file and
# --token both work and the task belongs to the token's tenant (NOT_FOUND with the other token,
# UNAUTHENTICATED without one); without --tls_ca the call cannot connect (exit 4); no token
# appears in any output or in the gateway's log.
check_client_example_tls() {
  local dir="$1" ca="$2" tokens="$3"; shift 3
  local server="127.0.0.1:$GATEWAY_PORT" id saved token_a token_b f
  local cli=("$BUILD_DIR/client/qwen-image" --server="$server" --tls_ca="$ca")
  token_a=$(head -n1 "$tokens/token-a")
  token_b=$(cat "$tokens/token-b")

  run_to "$dir" tls "$@" --server="$server" --tls_ca="$ca" --token_file="$tokens/token-a" \
    --model=qwen-image-2.0 --prompt="a lighthouse at dusk" --size="1024*768" --n=2 \
    --out="$dir/tls"
  [ "$RUN_RC" = 0 ] ||
    { echo "over TLS with a token file: exit $RUN_RC"; show_run "$dir" tls; return 1; }
  check_pngs "$dir/tls" 2 1024 768 || { show_run "$dir" tls; return 1; }
  saved=("$dir"/tls/*-0.png)
  id=$(basename "${saved[0]}" -0.png)
  run_to "$dir" tls_get "${cli[@]}" --token_file="$tokens/token-a" get "$id"
  [ "$RUN_RC" = 0 ] ||
    { echo "the token's tenant does not see $id"; show_run "$dir" tls_get; return 1; }
  run_to "$dir" tls_other "${cli[@]}" --token_file="$tokens/token-b" get "$id"
  [ "$RUN_RC" = 5 ] ||
    { echo "another tenant's token sees $id"; show_run "$dir" tls_other; return 1; }
  run_to "$dir" tls_none "${cli[@]}" get "$id"
  if [ "$RUN_RC" = 0 ] || ! grep -q UNAUTHENTICATED "$dir/tls_none.err"; then
    echo "no token: exit $RUN_RC, want UNAUTHENTICATED"; show_run "$dir" tls_none; return 1
  fi

  run_to "$dir" tls_token "$@" --server="$server" --tls_ca="$ca" --token="$token_b" \
    --model=qwen-image-plus --prompt="a red fox" --size="928*1664" --out="$dir/tls_token"
  [ "$RUN_RC" = 0 ] ||
    { echo "over TLS with --token: exit $RUN_RC"; show_run "$dir" tls_token; return 1; }
  check_pngs "$dir/tls_token" 1 928 1664 || { show_run "$dir" tls_token; return 1; }

  run_to "$dir" plain "$@" --server="$server" --model=qwen-image-plus --prompt="a red fox" \
    --timeout=5 --out="$dir/plain"
  [ "$RUN_RC" = 4 ] ||
    { echo "plaintext to a TLS gateway: exit $RUN_RC, want 4"; show_run "$dir" plain; return 1; }
  grep -q "listening on port $GATEWAY_PORT, TLS " "$dir/gateway.log" ||
    { echo "the start-up log does not say TLS:"; cat "$dir/gateway.log"; return 1; }
  for f in "$dir"/*.out "$dir"/*.err "$dir/gateway.log"; do
    if grep -qF -e "$token_a" -e "$token_b" "$f"; then echo "$f shows a token"; return 1; fi
  done
}
