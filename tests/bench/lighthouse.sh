#!/usr/bin/env bash
# Lighthouse (mobile) on the hosted checkout page, under Lighthouse's default
# mobile throttling and under DevTools' "Slow 3G" preset (2,000 ms latency,
# 400 kbit/s each way, applied by DevTools: --throttling-method=devtools).
# Not part of CI. Needs a built server (cargo build -p kasir-server), a built
# widget (cargo xtask widget), Debian's chromium, and Lighthouse from npm:
#   npm install --prefix /tmp/lh lighthouse@12
# Usage: tests/bench/lighthouse.sh [dist-dir] [label]
set -euo pipefail
cd "$(dirname "$0")/../.."
DIST="${1:-dist}"
LABEL="${2:-this build}"
LH="${LIGHTHOUSE:-/tmp/lh/node_modules/.bin/lighthouse}"
PORT="${PORT:-8097}"
DB="$(mktemp -d)/kasir.db"
KEY="sk_test_lighthouse_0123456789abcdef"
KASIR_LISTEN="127.0.0.1:$PORT" KASIR_PUBLIC_URL="http://127.0.0.1:$PORT" \
  KASIR_DATABASE_URL="sqlite://$DB?mode=rwc" KASIR_WIDGET_DIR="$DIST" \
  KASIR_MERCHANT_ID=lighthouse KASIR_MERCHANT_NAME="Toko Lighthouse" KASIR_MERCHANT_SECRET_KEY="$KEY" \
  KASIR_SANDBOX_WEBHOOK_SECRET="whsec_lighthouse_0123456789abcdef" \
  target/debug/kasir-server > /dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
run() {
  local name="$1" profile="$2"; shift 2
  local url
  url=$(curl -fs "http://127.0.0.1:$PORT/v1/checkout_sessions" -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: application/json' \
    -d '{"amount":150000,"reference":"INV-LH","description":"Kopi Gayo 250 g"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
  CHROME_PATH=/usr/bin/chromium "$LH" "$url" --quiet --only-categories=performance,accessibility \
    --chrome-flags="--headless=new --no-sandbox" --output=json --output-path="/tmp/lh-$name.json" "$@" || true
  python3 - "$name" "$LABEL" "$profile" <<'PY'
import json, sys
name, label, profile = sys.argv[1], sys.argv[2], sys.argv[3]
r = json.load(open(f"/tmp/lh-{name}.json"))
a = r["audits"]
ms = lambda k: a[k].get("numericValue")
print(f"| {label} | {profile} | {round(r['categories']['performance']['score']*100)} | "
      f"{round(r['categories']['accessibility']['score']*100)} | {ms('first-contentful-paint'):.0f} | "
      f"{ms('largest-contentful-paint'):.0f} | {ms('interactive'):.0f} |")
PY
}
echo "| widget | throttling | performance | accessibility | FCP ms | LCP ms | TTI ms |"
echo "|---|---|---:|---:|---:|---:|---:|"
run mobile "mobile (Lighthouse's default)"
run slow3g "Slow 3G (DevTools)" --throttling-method=devtools --throttling.requestLatencyMs=2000 \
  --throttling.downloadThroughputKbps=400 --throttling.uploadThroughputKbps=400 --throttling.cpuSlowdownMultiplier=1
