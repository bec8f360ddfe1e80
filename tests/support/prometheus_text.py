"""Reading a /metrics answer in tests."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(text: str, name: str, **labels) -> float:
    """One sample's value; 0 when the exposition does not have it (a counter not yet moved)."""
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def by_label(text: str, name: str, label: str) -> dict[str, float]:
    """{label value: sample value} of one metric's samples."""
    return {s.labels[label]: s.value for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == name}
