#!/usr/bin/env bash
# `pnpm test`: everything, from a fresh clone. Installs what it needs (dependencies,
# Debian's Chromium, a Redis server when none answers), then runs typecheck, lint,
# the production build, unit + integration tests (Vitest; the multi-node ones run that build),
# the browser e2e tests against it and a quick benchmark run (a smoke test of `pnpm bench`).
# Ends with the line `N passed, N failed` (totals over every runner).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="$ROOT/node_modules/.bin"
OUT="$ROOT/.test-results"
rm -rf "$OUT" && mkdir -p "$OUT"
passed=0
failed=0
step() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
check() { # check NAME CMD...: one pass or fail
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

step "dependencies"
npx -y pnpm@10.34.9 install --frozen-lockfile --reporter=append-only >"$OUT/install.log" 2>&1 \
  || { cat "$OUT/install.log"; echo "0 passed, 1 failed"; exit 1; }
echo "node $("$BIN/node" --version)"

step "chromium"
if ! [ -x /usr/bin/chromium ]; then
  as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >"$OUT/apt.log" 2>&1 \
    || { tail -20 "$OUT/apt.log"; echo "0 passed, 1 failed"; exit 1; }
fi
/usr/bin/chromium --version
# `ss` (iproute2) lets an e2e test read the server's listen backlog
if ! command -v ss >/dev/null; then
  as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq iproute2 >"$OUT/apt-ss.log" 2>&1 \
    || { tail -20 "$OUT/apt-ss.log"; echo "0 passed, 1 failed"; exit 1; }
fi

step "redis"
# redis-server itself too: the failover tests and the Dockerfile check start their own.
if ! command -v redis-server >/dev/null; then
  as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server >"$OUT/apt-redis.log" 2>&1
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile "$OUT/redis.log"
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping || { echo "Redis does not answer"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
export REDIS_TEST_URL=redis://127.0.0.1:6379

step "typecheck"
check typecheck "$BIN/turbo" run typecheck --output-logs=errors-only

step "lint"
check lint "$BIN/biome" check .

# Before the Vitest run: the multi-node failover tests (the web:cluster project, apps/web/test/cluster)
# start web nodes from this build, and fail (never skip) without it.
step "production build"
check build bash -c "cd apps/web && ./node_modules/.bin/vite build >'$OUT/build.log' 2>&1 || { tail -40 '$OUT/build.log'; exit 1; }"

step "unit and integration tests (vitest)"
# Shuffled order (vitest.config.ts); the seed replays this run's order: VITEST_SEED=<seed> pnpm test
export VITEST_SEED=${VITEST_SEED:-$RANDOM$RANDOM}
echo "vitest order seed: $VITEST_SEED"
"$BIN/vitest" run --reporter=default --reporter=json --outputFile.json="$OUT/vitest.json"
vitest_status=$?
if [ -f "$OUT/vitest.json" ]; then
  read -r vp vf < <("$BIN/node" -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const failedSuites = r.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0).length;
    console.log(r.numPassedTests, r.numFailedTests + failedSuites)' "$OUT/vitest.json")
  passed=$((passed + vp)); failed=$((failed + vf))
  if [ "$vitest_status" != 0 ] && [ "$vf" = 0 ]; then failed=$((failed + 1)); fi
else
  failed=$((failed + 1))
fi

step "container files (no Docker daemon here: the Dockerfile's steps run outside Docker)"
# scripts/check-dockerfile.mjs builds every stage in a temp dir and starts the web and worker images.
check dockerfile-steps bash -c "'$BIN/node' scripts/check-dockerfile.mjs >'$OUT/dockerfile.log' 2>&1 \
  || { tail -40 '$OUT/dockerfile.log'; exit 1; }"
# The compose files are validated by Compose itself (`config` needs no daemon).
compose() { if docker compose version >/dev/null 2>&1; then docker compose "$@"; else docker-compose "$@"; fi; }
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
  as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq docker-compose >"$OUT/apt-compose.log" 2>&1
fi
for files in compose.yaml compose.multinode.yaml "compose.multinode.yaml -f compose.workers.yaml"; do
  check "compose config -f $files" env PUBLIC_URL=https://rooms.example DISCORD_CLIENT_ID=1 DISCORD_GUILD_ID=2 \
    bash -c "$(declare -f compose); compose -f $files config -q"
done

step "browser e2e (playwright-core + Chromium, production build)"
if [ -f apps/web/.output/server/index.mjs ]; then
  bash scripts/e2e.sh 2>&1 | tee "$OUT/e2e.log"
  e2e_status=${PIPESTATUS[0]}
  ep=$(grep -E '^# pass [0-9]+' "$OUT/e2e.log" | awk '{s+=$3} END {print s+0}')
  # A test cancelled because its suite's setup failed did not pass: it counts as failed.
  ef=$(grep -E '^# (fail|cancelled) [0-9]+' "$OUT/e2e.log" | awk '{s+=$3} END {print s+0}')
  if [ "$ep" = 0 ] && [ "$ef" = 0 ]; then ef=1; fi
  if [ "$e2e_status" != 0 ] && [ "$ef" = 0 ]; then ef=1; fi
  passed=$((passed + ep)); failed=$((failed + ef))
else
  failed=$((failed + 1))
fi

step "benchmark smoke run (pnpm bench --quick, production build)"
# Not a performance check: the quick run's figures are not judged, only that every arm ran
# every scenario and ours lost nothing (scripts/bench-smoke.mjs).
if [ -f apps/web/.output/server/index.mjs ]; then
  check bench-smoke bash -c "'$BIN/node' bench/run.mjs --quick --no-build >'$OUT/bench.log' 2>&1 \
    || { tail -40 '$OUT/bench.log'; exit 1; }; '$BIN/node' scripts/bench-smoke.mjs bench/results/quick.json"
else
  failed=$((failed + 1))
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
