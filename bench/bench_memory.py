"""Resident memory of a process before and after loading the face models. Prints JSON.

    .venv/bin/python bench/bench_memory.py

Each scenario runs in a fresh Python process and reads VmRSS / VmHWM (peak RSS) from
/proc/self/status (ru_maxrss from getrusage where /proc is missing):

- ``import``: after ``import kiosk.vision.faces, kiosk.vision.liveness`` (must load no model);
- ``sface verify``: YuNet + SFace loaded (the default model) and one ``verify`` of two photos;
- ``sface verify+liveness``: the same plus what liveness needs from dlib (HOG detector and
  the 68-point predictor) — the kiosk's process with FACE_MODEL = "sface";
- ``dlib verify``: after ``models.preload(liveness=False)`` (HOG detector, 5-point predictor,
  ResNet encoder) and one ``verify`` of two photos;
- ``dlib verify+liveness``: the same plus the 68-point predictor liveness needs;
- baselines: ``import face_recognition`` (it loads all its models at import, including the
  CNN detector the kiosk never uses) and the same plus one default-args encoding of each photo.

Note: ``import kiosk.vision`` runs ``kiosk/__init__.py``, which imports Flask (≈ 19 MiB); the
vision modules themselves import neither Flask nor face_recognition.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "testdata" / "faces"

PROBE = textwrap.dedent("""
    import json, resource, sys
    def mem():
        out = {}
        try:
            for line in open("/proc/self/status"):
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = round(int(value.split()[0]) / 1024, 1)
        except OSError:
            out["VmHWM"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        return out
""")

SCENARIOS = {
    "python+numpy+cv2": "import numpy, cv2",
    "import": "import numpy, cv2, kiosk.vision.faces, kiosk.vision.liveness\n"
              "from kiosk.vision import dlib_models as models\nassert models.loaded() == []",
    "sface verify": "import cv2\nfrom kiosk.vision import faces\n"
                    "m = faces.get_model('sface'); m.load()\n"
                    "a = cv2.imread(DATA + '/megawati_sukarnoputri/4.jpg')\n"
                    "b = cv2.imread(DATA + '/megawati_sukarnoputri/5.jpg')\n"
                    "assert faces.verify(a, b, model=m)['decision'] != 'no_face'",
    "sface verify+liveness": "import cv2\nfrom kiosk.vision import faces, liveness\n"
                             "from kiosk.vision import dlib_models as models\n"
                             "m = faces.get_model('sface'); m.load()\n"
                             "models.get('hog_detector'); models.get('shape_68')\n"
                             "a = cv2.imread(DATA + '/megawati_sukarnoputri/4.jpg')\n"
                             "b = cv2.imread(DATA + '/megawati_sukarnoputri/5.jpg')\n"
                             "assert faces.verify(a, b, model=m)['decision'] != 'no_face'\n"
                             "assert liveness.observe(b, with_encoding=True, model=m) is not None",
    "dlib verify": "import cv2\nfrom kiosk.vision import faces\nfrom kiosk.vision import dlib_models as models\n"
              "models.preload(liveness=False)\n"
              "a = cv2.imread(DATA + '/megawati_sukarnoputri/4.jpg')\n"
              "b = cv2.imread(DATA + '/megawati_sukarnoputri/5.jpg')\n"
              "assert faces.verify(a, b)['decision'] != 'no_face'",
    "dlib verify+liveness": "import cv2\nfrom kiosk.vision import faces, liveness\nfrom kiosk.vision import dlib_models as models\n"
                       "models.preload(liveness=True)\n"
                       "a = cv2.imread(DATA + '/megawati_sukarnoputri/4.jpg')\n"
                       "b = cv2.imread(DATA + '/megawati_sukarnoputri/5.jpg')\n"
                       "assert faces.verify(a, b)['decision'] != 'no_face'\n"
                       "assert liveness.observe(b) is not None",
    "baseline: import face_recognition": "import warnings\nwarnings.simplefilter('ignore')\n"
                                         "import numpy, cv2, face_recognition",
    "baseline: face_recognition verify": (
        "import warnings\nwarnings.simplefilter('ignore')\nimport cv2, face_recognition as fr\n"
        "a = cv2.cvtColor(cv2.imread(DATA + '/megawati_sukarnoputri/4.jpg'), cv2.COLOR_BGR2RGB)\n"
        "b = cv2.cvtColor(cv2.imread(DATA + '/megawati_sukarnoputri/5.jpg'), cv2.COLOR_BGR2RGB)\n"
        "ea = fr.face_encodings(a, fr.face_locations(a))\n"
        "eb = fr.face_encodings(b, fr.face_locations(b))\n"
        "assert ea and eb"),
}


def run(code: str, data: str) -> dict:
    script = PROBE + f"DATA = {data!r}\n" + code + "\nprint(json.dumps(mem()))\n"
    done = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    data = os.environ.get("KIOSK_FACE_DATA") or str(DEFAULT_DATA)
    results = {name: run(code, data) for name, code in SCENARIOS.items()}
    base = results["python+numpy+cv2"].get("VmHWM")
    for name in list(SCENARIOS)[1:]:
        peak = results[name].get("VmHWM")
        if base is not None and peak is not None:
            results[name]["peak_over_numpy_cv2"] = round(peak - base, 1)
    print(json.dumps({"unit": "MiB", "scenarios": results}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
