#!/usr/bin/env bash
# One command: set everything up and start the kiosk on the embedded defaults
# (SQLite in instance/, sandbox providers). PORT and HOST may be set in the environment.
# Fast start: the set-up runs only when what it depends on changed since its last success
# (scripts/setup_stamp.py; KIOSK_SETUP=always forces it, docs/deploy.md).
set -euo pipefail
cd "$(dirname "$0")/.."
need=setup
if [ "${KIOSK_SETUP:-}" != always ] && [ -x .venv/bin/python ]; then
  need=$(.venv/bin/python scripts/setup_stamp.py check) || need=setup
fi
case "$need" in
  setup) scripts/setup.sh ;;
  init)
    echo "==> Database: migrate and seed (the migrations or the seed changed)"
    .venv/bin/flask --app kiosk init ;;
  *) echo "==> Set-up unchanged since its last run: skipped (KIOSK_SETUP=always runs it)" ;;
esac
[ "$need" = nothing ] || .venv/bin/python scripts/setup_stamp.py record
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
echo
echo "Kiosk đang chạy tại: http://$HOST:$PORT/   (Ctrl+C để dừng)"
echo "Tài khoản quản trị đầu tiên:  .venv/bin/flask --app kiosk create-staff TEN_DANG_NHAP --role admin"
# Only an enrolled browser is a kiosk: a one-time link (15 minutes) for the first kiosk, quay-01,
# to open once in the kiosk's browser. Nothing when it is enrolled already.
.venv/bin/flask --app kiosk kiosks enroll-code quay-01 --unless-enrolled --url "http://$HOST:$PORT" \
  || echo "!! Không tạo được mã ghép máy: .venv/bin/flask --app kiosk kiosks enroll-code MA_QUAY"
exec .venv/bin/waitress-serve --host "$HOST" --port "$PORT" --threads 8 --call kiosk:create_app
