"""Peak-memory cost of each hostile upload, measured in a fresh process per attack.

    python bench/bench_upload_memory.py            (from the project root)

Prints one JSON object: for every attack in tests/security/rss_probe.py, the process's peak RSS
after serving the same endpoint once with a legitimate image (the baseline, same run), the peak
after the attack, and the growth in MB. The test suite asserts growth < 256 MB for each.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from tests.security.rss_probe import attacks, run_probe

    results = {}
    for name in sorted(attacks()):
        try:
            probe = run_probe(name, ROOT, timeout=600)
        except RuntimeError as err:
            results[name] = {"error": str(err).strip().splitlines()[-1:]}
            continue
        results[name] = {"status": probe["status"],
                         "baseline_peak_mb": round(probe["baseline_kb"] / 1024, 1),
                         "attack_peak_mb": round(probe["peak_kb"] / 1024, 1),
                         "growth_mb": round((probe["peak_kb"] - probe["baseline_kb"]) / 1024, 1)}
    print(json.dumps({"limit_mb": 256, "attacks": results}, indent=2))


if __name__ == "__main__":
    main()
