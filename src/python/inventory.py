"""What Python distributions an image has, as the interpreter running this sees them (nfhot diff).

argv: "list NAME..." -> {"dists": one object per distribution import finds first for its name:
name, version, location, a hash of its RECORD, and how it was installed (direct_url.json);
"files": for each NAME, the files of its distributions (RECORD, or installed-files.txt), each with
the sha256 of its content as it is now}.
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

# `python -c` puts the working directory first: an old egg-info in the image's WORKDIR must not
# hide what is installed.
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]


def normalize(name):
    return re.sub(r"[-_.]+", "-", name or "").lower()


def by_name():
    """Every distribution for each name, in sys.path order (the first is the one import uses); one
    whose metadata cannot be read is left out."""
    found = {}
    for dist in metadata.distributions():
        try:
            name = normalize(dist.metadata["Name"])
        except Exception:
            continue
        if name:
            found.setdefault(name, []).append(dist)
    return found


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


def paths(dist):
    """The files a distribution installed: an egg-info's installed-files.txt (which Python before
    3.12 does not read: it gives SOURCES.txt), else RECORD."""
    installed = read(dist, "installed-files.txt")
    if installed and home(dist):
        return [os.path.join(home(dist), line) for line in installed.splitlines() if line.strip()]
    try:
        return [str(f.locate()) for f in dist.files or []]
    except Exception:
        return []


def files(dists):
    """The files of every distribution of a name: one that pip shadowed (in another directory) is
    still there, not removed."""
    out = {}
    for dist in dists:
        for path in map(os.path.normpath, paths(dist)):
            if os.path.islink(path):
                out[path] = "link:" + os.readlink(path)
            elif os.path.isfile(path):
                out[path] = sha256(path)
    return out


def main():
    dists = by_name()
    out = {"files": {n: files(dists[n]) if n in dists else None for n in map(normalize, sys.argv[2:])}}
    if sys.argv[1] == "list":
        listed = []
        for name, found in sorted(dists.items()):
            try:
                listed.append(describe(name, found[0]))
            except Exception:
                pass
        out["dists"] = listed
    json.dump(out, sys.stdout)


main()
