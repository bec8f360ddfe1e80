#!/usr/bin/env bash
# Set up everything the kiosk needs on a fresh Debian/Ubuntu machine; safe to run again.
#   scripts/setup.sh          runtime only
#   scripts/setup.sh --test   also the test tools (chromium, poppler-utils, pytest …)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# dlib is compiled from source (~10 min on 2 cores). Built against OpenBLAS a face encoding
# takes ~24 ms instead of ~107 ms, so the BLAS headers must be present *before* it compiles.
sys_pkgs=(build-essential cmake libopenblas-dev liblapack-dev python3-venv python3-dev fonts-dejavu-core)
[ $want_test = 1 ] && sys_pkgs+=(chromium poppler-utils)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in "${sys_pkgs[@]}"; do
  installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> Installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "!! Missing system packages: ${missing[*]}"
    echo "!! Install them as root first:  sudo apt-get install -y ${missing[*]}"
    missing_build=0
    for p in build-essential cmake python3-dev; do installed "$p" || missing_build=1; done
    if [ $missing_build = 1 ] && ! [ -x .venv/bin/python ] ; then
      echo "!! dlib must be compiled and the compilers/headers are missing: stopping here."
      exit 1
    fi
    echo "!! (continuing; without libopenblas-dev dlib is ~4x slower)"
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating virtual environment .venv"
  "$PYTHON" -m venv .venv
fi
VPY=.venv/bin/python
# setuptools < 81 on purpose: face_recognition_models imports pkg_resources (docs/dependencies.md).
$VPY -m pip install -q --upgrade pip "setuptools>=68,<81" wheel

# The -dev package, not just the runtime library: dlib's build looks for the headers.
have_blas_lib() { installed libopenblas-dev || installed libblas-dev; }
dlib_blas() { $VPY -c "import dlib,sys; sys.stdout.write(str(dlib.DLIB_USE_BLAS))" 2>/dev/null || echo none; }

if [ "$(dlib_blas)" = none ]; then
  echo "==> Installing dlib (first time: compiles for about 10 minutes)"
  $VPY -m pip install -q "dlib>=19.24"
fi
if [ "$(dlib_blas)" = False ] && have_blas_lib; then
  # pip's cache may hold a wheel compiled before OpenBLAS was installed: never reuse it.
  echo "==> dlib was built without BLAS although OpenBLAS is present: rebuilding (about 10 minutes)"
  $VPY -m pip install -q --force-reinstall --no-deps --no-cache-dir "dlib>=19.24"
fi

extra=""
[ $want_test = 1 ] && extra="[test]"
echo "==> Installing the kiosk package and its dependencies"
$VPY -m pip install -q -e ".${extra}"

echo "==> Database: migrate and seed"
.venv/bin/flask --app kiosk init
echo "==> dlib BLAS: $(dlib_blas)"
