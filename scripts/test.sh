#!/usr/bin/env bash
# The test-suite on SQLite, then again on PostgreSQL; both runs use Redis (RQ workers) when it
# answers on its standard local port. Under CI=true a missing service is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PG_URL=${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}
REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}

missing=()
"$PY" - "$PG_URL" <<'PYEOF' || missing+=("PostgreSQL ($PG_URL)")
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PYEOF
"$PY" - "$REDIS_URL" <<'PYEOF' || missing+=("Redis ($REDIS_URL)")
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=3).ping()
PYEOF

if [ ${#missing[@]} -gt 0 ] && [ "${CI:-}" = "true" ]; then
  echo "FAILED: not answering under CI: ${missing[*]}" >&2
  exit 1
fi
redis_env=()
[[ " ${missing[*]} " == *" Redis "* ]] || redis_env=(TEST_REDIS_URL="$REDIS_URL")

if [ ! -x /usr/bin/chromium ] && [ "${CI:-}" != "true" ]; then
  # Under CI the browser tests fail instead (tests/conftest.py).
  echo "Note: no Chromium at /usr/bin/chromium: the end-to-end suite (tests/e2e) is skipped (apt-get install chromium)."
fi

echo "== Test-suite on SQLite"
env "${redis_env[@]}" "$PY" -m pytest "$@"

if [ ${#missing[@]} -gt 0 ]; then
  echo "== Skipping the PostgreSQL run: not answering: ${missing[*]}"
  exit 0
fi
echo "== Test-suite on PostgreSQL and Redis"
TEST_DATABASE_URL="$PG_URL" TEST_REDIS_URL="$REDIS_URL" "$PY" -m pytest "$@"
