#!/usr/bin/env bash
# One command: set everything up and start the kiosk on the embedded defaults
# (SQLite in instance/, sandbox providers). PORT and HOST may be set in the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
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
