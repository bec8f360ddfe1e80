"""Rebuild the real-photo development set from public GitHub repositories.

    python bench/real_photos/rebuild.py DEST [--mirrors /work/.mirror]

The images are photographs and scans of REAL PEOPLE'S identity cards, taken from public
repositories. They are personal data: keep them outside the repository, never commit them,
never paste their contents (numbers, names) anywhere. The manifest next to this script holds
only hashes (``sha256`` of the file, ``id_sha256`` of the ID digits), never a number.

For every entry of ``manifest.json`` (next to this file) the script looks for a local bare
mirror of ``entry["repo"]`` under the mirrors root (the ``fetch`` tool puts
``github:owner/name`` at ``<root>/owner+name/repo``; ``owner+name``, ``owner/name`` and
``owner__name`` are all tried, and the git directory is searched a couple of levels down),
runs ``git --git-dir=... cat-file blob COMMIT:PATH``, checks the sha256 against the manifest
and writes ``DEST/<file>`` (original bytes, unchanged). Files already present with the right
sha256 are left alone.

Prints a JSON summary: written / already present / missing repositories (with the
``fetch github:owner/name`` still needed) / missing blobs / sha mismatches. Exits 1 if
anything could not be produced, 0 otherwise. Standard library and ``git`` only.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"


def is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def find_git_dir(mirrors: Path, repo: str) -> Path | None:
    owner, _, name = repo.partition("/")
    bases = [mirrors / f"{owner}+{name}", mirrors / owner / name, mirrors / f"{owner}__{name}",
             mirrors / f"{owner}+{name}.git"]
    # Case-insensitive match on the "owner+name" directory as a fallback.
    if mirrors.is_dir():
        want = f"{owner}+{name}".lower()
        bases += [p for p in mirrors.iterdir() if p.is_dir() and p.name.lower() == want]
    for base in bases:
        if not base.is_dir():
            continue
        if is_git_dir(base):
            return base
        for cand in (base / "repo", base / ".git", base / "repo.git"):
            if cand.is_dir() and is_git_dir(cand):
                return cand
        # Anything up to two levels down that looks like a git directory.
        for cand in sorted(base.glob("*")) + sorted(base.glob("*/*")):
            if cand.is_dir() and is_git_dir(cand):
                return cand
            if cand.is_dir() and (cand / ".git").is_dir() and is_git_dir(cand / ".git"):
                return cand / ".git"
    return None


def read_blob(git_dir: Path, commit: str, path: str) -> bytes | None:
    proc = subprocess.run(["git", "--git-dir", str(git_dir), "cat-file", "blob", f"{commit}:{path}"],
                          capture_output=True)
    return proc.stdout if proc.returncode == 0 else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dest", type=Path)
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--manifest", type=Path, default=MANIFEST)
    args = ap.parse_args(argv)

    manifest = json.loads(args.manifest.read_text(encoding="utf-8"))
    images = manifest["images"]
    args.dest.mkdir(parents=True, exist_ok=True)

    written, present, mismatches, missing_blobs = [], [], [], []
    missing_repos: dict[str, int] = {}
    git_dirs: dict[str, Path | None] = {}
    for entry in images:
        out = args.dest / entry["file"]
        if out.is_file() and hashlib.sha256(out.read_bytes()).hexdigest() == entry["sha256"]:
            present.append(entry["file"])
            continue
        repo = entry["repo"]
        if repo not in git_dirs:
            git_dirs[repo] = find_git_dir(args.mirrors, repo)
        git_dir = git_dirs[repo]
        if git_dir is None:
            missing_repos[repo] = missing_repos.get(repo, 0) + 1
            continue
        data = read_blob(git_dir, entry["commit"], entry["path"])
        if data is None:
            missing_blobs.append({"file": entry["file"], "repo": repo, "commit": entry["commit"],
                                  "path": entry["path"]})
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            mismatches.append({"file": entry["file"], "repo": repo, "expected": entry["sha256"],
                               "got": digest})
            continue
        out.write_bytes(data)
        written.append(entry["file"])

    summary = {
        "dest": str(args.dest),
        "manifest_images": len(images),
        "written": len(written),
        "already_present": len(present),
        "missing_repos": [{"repo": r, "images": n, "fetch": f"fetch github:{r}"}
                          for r, n in sorted(missing_repos.items())],
        "missing_blobs": missing_blobs,
        "sha_mismatches": mismatches,
    }
    print(json.dumps(summary, indent=2))
    return 1 if (missing_repos or missing_blobs or mismatches) else 0


if __name__ == "__main__":
    sys.exit(main())
