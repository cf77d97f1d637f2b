#!/usr/bin/env bash
# Browser e2e: starts the bundled Discord emulator and the production server
# (apps/web/.output), runs apps/web/tests/e2e/*.e2e.mjs with node:test against
# them, then stops both. Needs `vite build` first and /usr/bin/chromium.
# Arguments, if any, are the test files to run (paths relative to apps/web), e.g.
#   bash scripts/e2e.sh tests/e2e/oversized-frames.e2e.mjs
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# Free ports unless given: a server left over from an earlier run must not answer for this one.
free_port() { "$ROOT/node_modules/.bin/node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
export E2E_PORT=${E2E_PORT:-$(free_port)}
export EMULATOR_PORT=${EMULATOR_PORT:-$(free_port)}
export BASE_URL="http://127.0.0.1:$E2E_PORT"
export EMULATOR_URL="http://127.0.0.1:$EMULATOR_PORT"
DATA_DIR=$(mktemp -d)
random_secret() { "$ROOT/node_modules/.bin/node" -e 'console.log(require("crypto").randomBytes(32).toString("base64url"))'; }
SESSION_SECRET=$(random_secret)
# The operator endpoints (/metrics, /api/health) then need it: the tests send it.
METRICS_TOKEN=$(random_secret)
export SESSION_SECRET METRICS_TOKEN
LOG="$ROOT/.test-results/e2e-server.log"
export E2E_SERVER_LOG=$LOG # what the server writes, for tests of its logging
mkdir -p "$(dirname "$LOG")"

# The table's settings for the browser tests: a dropped player's seat is held for a short grace
# (tests/e2e/table-*.e2e.mjs wait it out), the gateway asks for the Server Members intent (names
# change live for players out of voice too), and one trusted proxy hop, so a test can give a
# browser its own address with X-Forwarded-For (the room code attempt limit is per address).
export SEAT_GRACE_SECONDS=${SEAT_GRACE_SECONDS:-15}
export DISCORD_GUILD_MEMBERS_INTENT=1 TRUSTED_PROXY_HOPS=1
# Community servers on (tests/e2e/servers.e2e.mjs): sign-in asks for the guilds scope, the home
# page has the "Server" picker; everything else works as with one server.
export ROOMS_COMMUNITY=${ROOMS_COMMUNITY:-1}

# Its own process group, so cleanup stops the emulator and the server together.
DISCORD_EMULATOR=1 PORT=$E2E_PORT HOST=127.0.0.1 DATA_DIR=$DATA_DIR LOG_LEVEL=${LOG_LEVEL:-warn} \
  PUBLIC_URL=$BASE_URL setsid "$ROOT/node_modules/.bin/node" scripts/start.mjs >"$LOG" 2>&1 &
server=$!
cleanup() {
  kill -TERM -- "-$server" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$server" 2>/dev/null
  rm -rf "$DATA_DIR"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fs "$BASE_URL/api/health/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
if ! curl -fs "$BASE_URL/api/health/ready" >/dev/null; then
  echo "server did not come up:"; cat "$LOG"; echo "# fail 1"; exit 1
fi

# The secrets the server runs with, so the tests can check that none reaches a browser.
eval "$(curl -fs "$EMULATOR_URL/_emulator/state" | "$ROOT/node_modules/.bin/node" -e '
  const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
  console.log(`export DISCORD_BOT_TOKEN=${s.botToken} DISCORD_CLIENT_SECRET=${s.clientSecret}`)')"

cd apps/web || exit 1
if [ $# -gt 0 ]; then tests=("$@"); else tests=(tests/e2e/*.e2e.mjs); fi
"$ROOT/node_modules/.bin/node" --test --test-concurrency=1 --test-timeout=240000 --test-reporter=spec \
  --test-reporter-destination=stdout --test-reporter=tap --test-reporter-destination="$ROOT/.test-results/e2e.tap" \
  "${tests[@]}"
status=$?
# A failure is easier to read with what the server and the emulator said meanwhile (the file is
# overwritten by the next run).
if [ "$status" -ne 0 ]; then
  echo "--- last 100 lines of $LOG ---"
  tail -n 100 "$LOG"
fi
grep -E '^# (pass|fail|cancelled) ' "$ROOT/.test-results/e2e.tap"
exit $status
