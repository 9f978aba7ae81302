"""
The environment the install goes into, as the pipeline's tasks will see it: its distributions,
where each top-level name imports from, what pip cannot uninstall, and what would still shadow
the new code after the install.
"""

import json
import os
import subprocess
import sys

from nfhot_install.job import InstallError
from nfhot_install.util import canonical, metadata, remove_path, say


def location(dist):
    return str(getattr(dist, "_path", "") or "")


def top_level(files):
    """The importable top-level names a distribution installed: packages with __init__.py, modules."""
    names = set()
    for f in files:
        parts = str(f).replace(os.sep, "/").split("/")
        if (
            parts[0] in ("..", "")
            or parts[0].endswith((".dist-info", ".egg-info", ".data"))
            or parts[0] == "__pycache__"
        ):
            continue
        if len(parts) == 1 and parts[0].endswith(".py") and not parts[0].startswith("__editable__"):
            names.add(parts[0][:-3])
        elif len(parts) == 2 and parts[1] == "__init__.py":
            names.add(parts[0])
    return sorted(names)


# What a fresh interpreter of this environment sees: every distribution (its name and where), and
# where each top-level name asked imports from (without running the package).
SEE = r"""
import importlib.util, json, sys
from importlib import metadata
out = {"path": sys.path, "dists": [], "origins": {}}
for d in metadata.distributions():
    out["dists"].append([d.metadata["Name"], str(getattr(d, "_path", ""))])
for top in json.loads(sys.argv[1]):
    try:
        spec = importlib.util.find_spec(top)
        out["origins"][top] = spec.origin if spec and spec.has_location else None
    except Exception:
        out["origins"][top] = None
print(json.dumps(out))
"""


class View:
    """What a fresh interpreter sees of the distributions and top-level names asked ({name: [tops]}), started now."""

    def __init__(self, asked):
        self.asked = asked
        env = {k: v for k, v in os.environ.items() if k not in ("TMPDIR", "TEMP", "TMP")}
        tops = sorted({t for tops in asked.values() for t in tops})
        self._process = subprocess.Popen(
            [sys.executable, "-c", SEE, json.dumps(tops)], stdout=subprocess.PIPE, env=env, cwd="/"
        )
        self._seen = None

    def covers(self, asked):
        return all(n in self.asked and set(tops) <= set(self.asked[n]) for n, tops in asked.items())

    def seen(self):
        """{"path": sys.path, "dists": {name asked: [where each is]}, "origins": {top: file or None}}."""
        if self._seen is None:
            out = self._process.communicate()[0]
            if self._process.returncode:
                raise InstallError(
                    "%s could not list the environment's distributions (exit %d)"
                    % (sys.executable, self._process.returncode)
                )
            raw = json.loads(out.decode())
            dists = {}
            for name, path in raw["dists"]:
                if canonical(name) in self.asked:
                    dists.setdefault(canonical(name), []).append(path)
            self._seen = {"path": raw["path"], "dists": dists, "origins": raw["origins"]}
        return self._seen


def conda_files(name, info, prefix=None):
    """The conda record (conda-meta/*.json) of the package that installed `info`, and its files, absolute."""
    prefix = prefix or sys.prefix
    meta = os.path.join(prefix, "conda-meta")
    if not os.path.isdir(meta):
        return None, []
    rel = os.path.relpath(info, prefix)
    # conda's package is found by the metadata directory it lists; its file name starts with
    # the package's name, usually the distribution's own: those are read first.
    entries = sorted(e for e in os.listdir(meta) if e.endswith(".json"))
    entries.sort(key=lambda e: not e.lower().startswith(canonical(name) + "-"))
    for entry in entries:
        try:
            with open(os.path.join(meta, entry), encoding="utf-8") as fh:
                files = json.load(fh).get("files", [])
        except Exception:
            continue
        if any(f == rel or f.startswith(rel + "/") for f in files):
            return "conda-meta/" + entry, [os.path.join(prefix, f) for f in files]
    return None, []


def recorded(path):
    """Whether pip can uninstall the distribution whose metadata is at `path` (it lists its files)."""
    if path.endswith(".dist-info"):
        return os.path.exists(os.path.join(path, "RECORD"))
    return os.path.isdir(path) and any(
        os.path.exists(os.path.join(path, f)) for f in ("installed-files.txt", "top_level.txt")
    )


def replace_unrecorded(names):
    """
    pip refuses to uninstall a distribution that does not list its files: a .dist-info without
    RECORD (conda packages), a distutils single-file .egg-info, an .egg-info with neither
    installed-files.txt nor top_level.txt. Their files are removed here instead: those conda
    recorded for them, else their top-level package or module, then the metadata itself.
    """
    wanted = {canonical(n) for n in names}
    for dist in list(metadata.distributions()):
        path = location(dist)
        if canonical(dist.metadata["Name"]) not in wanted or not path.endswith((".dist-info", ".egg-info")):
            continue
        if not recorded(path):
            remove_unrecorded(dist, path)


def remove_unrecorded(dist, path):
    site = os.path.dirname(path)
    name = dist.metadata["Name"]
    record, files = conda_files(name, path)
    files = [f for f in files if os.path.lexists(f) and not os.path.isdir(f)]
    if record:
        how = "the %d files %s lists" % (len(files), record)
    else:
        tops = (dist.read_text("top_level.txt") or "").split() if os.path.isdir(path) else []
        tops = tops or sorted({name.replace("-", "_"), canonical(name).replace("-", "_")})
        files = [p for t in tops for p in (os.path.join(site, t), os.path.join(site, t + ".py")) if os.path.lexists(p)]
        how = "its top-level %s" % (", ".join(os.path.basename(f) for f in files) or "names (none found)")
    say(
        "%s %s has no record of its files that pip can use (%s): removing %s and its metadata first"
        % (name, dist.version, os.path.basename(path), how)
    )
    for f in files:
        remove_path(f)
        parent = os.path.dirname(f)
        while parent.startswith(site + os.sep) and os.path.isdir(parent) and not os.listdir(parent):
            os.rmdir(parent)
            parent = os.path.dirname(parent)
    remove_path(path)


class Owners:
    """
    Who owns what an install writes, as settle() leaves it: under the site directory, its owner;
    elsewhere (scripts, headers), the owner of the directory it went into (the nearest that exists).
    """

    def __init__(self, site):
        self.site, self.known = site, {}

    def anchor(self, p):
        anchor = self.site if p.startswith(self.site + os.sep) else os.path.dirname(p)
        while not os.path.isdir(anchor):
            anchor = os.path.dirname(anchor)
        return anchor

    def of_anchor(self, anchor):
        if anchor not in self.known:
            st = os.stat(anchor)
            self.known[anchor] = [st.st_uid, st.st_gid]
        return self.known[anchor]

    def __call__(self, p):
        """[uid, gid] for `p`."""
        return self.of_anchor(self.anchor(p))


def settle(paths, site):
    """Readable (and, if executable, runnable) by any uid; owned like the directory they went into."""
    owners = Owners(site)
    for p in paths:
        try:
            mode = os.lstat(p).st_mode
            if not os.path.islink(p):
                os.chmod(p, mode | 0o444 | (0o111 if mode & 0o100 else 0))
        except OSError:
            continue
        anchor = owners.anchor(p)
        uid, gid = owners.of_anchor(anchor)
        if (uid, gid) == (os.getuid(), os.getgid()):
            continue
        q = p
        while q.startswith(anchor + os.sep):
            try:
                os.lchown(q, uid, gid)
            except OSError:  # an owner the engine cannot map (rootless Podman): leave root's
                break
            q = os.path.dirname(q)


def pth_lines(entry, path):
    """The .pth lines of the environment's site directories that put `entry` on sys.path."""
    found = []
    for site in {p for p in path if os.path.isdir(p)}:
        for name in sorted(os.listdir(site)):
            if not name.endswith(".pth"):
                continue
            pth = os.path.join(site, name)
            try:
                with open(pth, encoding="utf-8") as fh:
                    lines = fh.read().splitlines()
            except Exception:
                continue
            for line in lines:
                if (
                    line.strip()
                    and not line.startswith(("#", "import "))
                    and os.path.normpath(os.path.join(site, line.strip())) == entry
                ):
                    found.append((pth, line))
    return found


def drop_pth_line(pth, line):
    with open(pth, encoding="utf-8") as fh:
        kept = [l for l in fh.read().splitlines() if l != line]
    if any(l.strip() and not l.startswith("#") for l in kept):
        st = os.stat(pth)
        with open(pth, "w", encoding="utf-8") as fh:
            fh.write("\n".join(kept) + "\n")
        os.chown(pth, st.st_uid, st.st_gid)
    else:
        os.remove(pth)


def shadows(seen, ours, files):
    """What a task would see instead of the new install: (where, why) for each."""
    problems = []
    for name, paths in seen["dists"].items():
        for stale in (p for p in paths if os.path.normpath(p) != os.path.normpath(ours[name])):
            problems.append((stale, "%s is listed a second time by %s" % (name, stale)))
    for top, origin in seen["origins"].items():
        if origin and os.path.realpath(origin) not in files:
            problems.append((origin, "`import %s` finds %s, not the patch" % (top, origin)))
    return problems


def unshadow(installed):
    """
    After the install, a task must import the new code and see the distribution once. An older
    checkout still put on sys.path by a .pth line (a develop install, conda develop) is taken off
    it, and stale metadata of the same name removed; anything else that shadows the new code
    (PYTHONPATH, say) fails the patch, saying what.
    """
    asked = {canonical(d.metadata["Name"]): top_level(d.files or []) for d in installed}
    ours = {canonical(d.metadata["Name"]): location(d) for d in installed}
    files = {os.path.realpath(str(f.locate())) for d in installed for f in (d.files or [])}
    sites = {os.path.normpath(os.path.dirname(ours[n])) for n in ours}
    for attempt in range(2):
        seen = View(asked).seen()
        problems = shadows(seen, ours, files)
        if not problems:
            return
        if attempt == 1:
            raise InstallError(
                "after the install, "
                + "; ".join(why for _, why in problems)
                + " (sys.path: %s)" % ":".join(seen["path"])
            )
        entries = sorted((os.path.normpath(p) for p in seen["path"] if p), key=len, reverse=True)
        for where, why in problems:
            entry = next((e for e in entries if where == e or where.startswith(e + os.sep)), None)
            lines = pth_lines(entry, seen["path"]) if entry else []
            if lines and entry not in sites:
                for pth, line in lines:
                    say("%s; taking %s off sys.path (line of %s)" % (why, entry, pth))
                    drop_pth_line(pth, line)
            elif where.endswith((".dist-info", ".egg-info")) and entry in sites:
                say("%s; removing it" % why)
                remove_path(where)


def check_syntax(paths):
    """Every module of (path, name to say) compiles with this Python (nothing is written)."""
    for path, said in paths:
        if not path.endswith(".py"):
            continue
        try:
            with open(path, "rb") as fh:
                compile(fh.read(), said, "exec", dont_inherit=True)
        except SyntaxError as e:
            raise InstallError("%s:%s: %s: %s" % (said, e.lineno, type(e).__name__, e.msg))
