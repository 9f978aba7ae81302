"""What Python distributions an image has, as the interpreter running this sees them (nfhot diff).

argv: "list NAME..." -> {"dists": one object per distribution import finds first for its name:
name, version, location, a hash of its RECORD, and how it was installed (direct_url.json,
INSTALLER); "files": for each NAME, its files (from RECORD, or installed-files.txt), each with the
sha256 of its content as it is now}.
argv: "files NAME..." -> only the "files" part.
"""
import hashlib
import json
import os
import re
import sys

try:
    from importlib import metadata
except ImportError:  # Python < 3.8
    sys.stderr.write("nfhot diff needs Python 3.8 or later in the image\n")
    sys.exit(3)


def normalize(name):
    return re.sub(r"[-_.]+", "-", name or "").lower()


def effective():
    """Each distribution import would use: the first on sys.path for its name."""
    seen = {}
    for dist in metadata.distributions():
        name = normalize(dist.metadata["Name"])
        if name and name not in seen:
            seen[name] = dist
    return seen


def read(dist, name):
    try:
        return dist.read_text(name)
    except Exception:
        return None


def home(dist):
    path = getattr(dist, "_path", None)
    return os.path.realpath(str(path)) if path is not None else None


def describe(name, dist):
    record = read(dist, "RECORD") or read(dist, "installed-files.txt") or ""
    direct = read(dist, "direct_url.json")
    try:
        direct = json.loads(direct) if direct else None
    except ValueError:
        direct = None
    return {
        "name": name,
        "version": dist.version,
        "metadata": home(dist),
        "record": hashlib.sha256(record.encode("utf-8", "surrogateescape")).hexdigest(),
        "installer": (read(dist, "INSTALLER") or "").strip() or None,
        "direct_url": direct,
    }


def sha256(path):
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def files(dist):
    out = {}
    for f in dist.files or []:
        path = os.path.normpath(str(f.locate()))
        if os.path.isfile(path) or os.path.islink(path):
            out[path] = sha256(path) if not os.path.islink(path) else "link:" + os.readlink(path)
    return out


def main():
    dists = effective()
    out = {"files": {n: files(dists[n]) if n in dists else None for n in map(normalize, sys.argv[2:])}}
    if sys.argv[1] == "list":
        out["dists"] = [describe(n, d) for n, d in sorted(dists.items())]
    json.dump(out, sys.stdout)


main()
