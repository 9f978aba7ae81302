# Installs exported sources with pip inside the work container (the image's pip, or one run from
# a pip wheel), then leaves only the install behind: files readable by any uid and owned like the
# environment, no older copy of the packages still importable or listed.
# argv[1]: JSON {"root": dir, "sources": [{"dir", "directUrl", "name", "version": facts git gave
#                the source (build.py), "wheel": a wheel of it built elsewhere}], "noDeps": bool,
#                "replace": [distribution names], "pipWheel": path or null, "checkSyntax": bool,
#                "learn": bool (say where the first source's files went, for later syncs),
#                "builders": [other interpreters of the image, to build a wheel with when this
#                one lacks a source's backend], "isolated": bool (pip may build such a source in
#                isolation, fetching its backend from an index), "layer": bool (when it can,
#                install the one new wheel as a layer written by nfhot instead of with pip; the
#                container has no network then: when pip must run and may need an index, the
#                answer is {"network": why}, exit 76)}.
# "receive": the first interpreter's job, which reads ROOT's files from stdin (receive()). "last": the last interpreter's job (it removes ROOT). ROOT/nfhot_build.py is build.py; ROOT/pip-env.json, when there, holds the PIP_* settings of
# the user's index for this install. pip's output goes to stderr; the one JSON result line goes
# to stdout: what was installed (and, with "layer", the layer's entries, else why pip ran), or {"needs": [...]} when a source's backend is in no
# interpreter here (nfhot then builds its wheel on the host, or lets pip build it in isolation).
import base64
import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
os.umask(0o022)  # tasks run as the caller's uid: everything installed must be world-readable
job = json.loads(sys.argv[1])
sources = job["sources"]


def receive():
    """
    The job's files (ROOT/...): tar archives, one after another, on stdin, read by the first
    interpreter's job. An engine that cannot send them copied them in before: stdin is empty then.
    """
    import tarfile

    try:
        with tarfile.open(fileobj=sys.stdin.buffer, mode="r|", ignore_zeros=True) as tar:
            tar.extractall("/", **({"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}))
    except tarfile.ReadError:
        pass  # nothing came


if job.get("receive"):
    receive()
# Temporary files stay under the job's root: some images have no /tmp (BioContainers' base).
tmp = os.path.join(job["root"], "tmp")
os.makedirs(tmp, exist_ok=True)
os.environ.update(TMPDIR=tmp, TEMP=tmp, TMP=tmp)
import tempfile  # noqa: E402 (after TMPDIR)

tempfile.tempdir = tmp

try:
    from importlib import metadata
except ImportError:
    import importlib_metadata as metadata

# pip runs in a process of its own. Not even asked for through the import system here: setuptools'
# distutils hook, told pip is being imported, hands a later build the stdlib's distutils.
import importlib.machinery  # noqa: E402

pip_wheel = None
if importlib.machinery.PathFinder.find_spec("pip") is None:
    if not job.get("pipWheel"):
        raise SystemExit("nfhot: error: pip is not installed for %s, and no pip wheel was given" % sys.executable)
    # A wheel is a zip that Python imports from: pip runs from it, and nothing of it stays.
    pip_wheel = job["pipWheel"]
    sys.path.insert(0, pip_wheel)


def canonical(name):
    return re.sub(r"[-_.]+", "-", name or "").lower()


def installed_version(name):
    try:
        return tuple(int(x) for x in re.findall(r"\d+", metadata.version(name))[:2])
    except Exception:
        return None


def say(text):
    sys.stderr.write("nfhot: %s\n" % text)
    sys.stderr.flush()


# build.py, shared with nfhot on the host and the image's other interpreters.
import types  # noqa: E402

build = types.ModuleType("nfhot_build")
BUILD_PY = os.path.join(job["root"], "nfhot_build.py")
exec(compile(open(BUILD_PY, encoding="utf-8").read(), BUILD_PY, "exec"), build.__dict__)


def location(dist):
    return str(getattr(dist, "_path", "") or "")


def remove_path(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def conda_files(name, info):
    """The conda record (conda-meta/*.json) of the package that installed `info`, and its files, absolute."""
    meta = os.path.join(sys.prefix, "conda-meta")
    if not os.path.isdir(meta):
        return None, []
    rel = os.path.relpath(info, sys.prefix)
    # conda's package is found by the metadata directory it lists; its file name starts with
    # the package's name, usually the distribution's own: those are read first.
    entries = sorted(e for e in os.listdir(meta) if e.endswith(".json"))
    entries.sort(key=lambda e: not e.lower().startswith(canonical(name) + "-"))
    for entry in entries:
        try:
            files = json.load(open(os.path.join(meta, entry), encoding="utf-8")).get("files", [])
        except Exception:
            continue
        if any(f == rel or f.startswith(rel + "/") for f in files):
            return "conda-meta/" + entry, [os.path.join(sys.prefix, f) for f in files]
    return None, []


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
        if canonical(dist.metadata["Name"]) not in wanted or not path:
            continue
        if path.endswith(".dist-info") and os.path.exists(os.path.join(path, "RECORD")):
            continue
        if (
            path.endswith(".egg-info")
            and os.path.isdir(path)
            and any(os.path.exists(os.path.join(path, f)) for f in ("installed-files.txt", "top_level.txt"))
        ):
            continue
        if not (path.endswith(".dist-info") or path.endswith(".egg-info")):
            continue
        site = os.path.dirname(path)
        record, files = conda_files(dist.metadata["Name"], path)
        files = [f for f in files if os.path.lexists(f) and not os.path.isdir(f)]
        if record:
            how = "the %d files %s lists" % (len(files), record)
        else:
            tops = (dist.read_text("top_level.txt") or "").split() if os.path.isdir(path) else []
            tops = tops or sorted(
                {dist.metadata["Name"].replace("-", "_"), canonical(dist.metadata["Name"]).replace("-", "_")}
            )
            files = [
                p for t in tops for p in (os.path.join(site, t), os.path.join(site, t + ".py")) if os.path.lexists(p)
            ]
            how = "its top-level %s" % (", ".join(os.path.basename(f) for f in files) or "names (none found)")
        say(
            "%s %s has no record of its files that pip can use (%s): removing %s and its metadata first"
            % (dist.metadata["Name"], dist.version, os.path.basename(path), how)
        )
        for f in files:
            remove_path(f)
            parent = os.path.dirname(f)
            while parent.startswith(site + os.sep) and os.path.isdir(parent) and not os.listdir(parent):
                os.rmdir(parent)
                parent = os.path.dirname(parent)
        remove_path(path)


def unmet_requirements(wheel):
    """What of the wheel's Requires-Dist this environment does not meet; None when that cannot be told."""
    import email.parser
    import zipfile

    try:
        with zipfile.ZipFile(wheel) as z:
            name = next(n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
            requires = email.parser.Parser().parsestr(z.read(name).decode("utf-8")).get_all("Requires-Dist") or []
        if not requires:
            return []
        try:
            from packaging.requirements import Requirement
        except ImportError:
            from pip._vendor.packaging.requirements import Requirement
        unmet = []
        for req in map(Requirement, requires):
            if req.marker and not req.marker.evaluate({"extra": ""}):
                continue
            try:
                version = metadata.version(req.name)
            except Exception:
                version = None
            # An extra's own requirements are not looked into: pip resolves those.
            if version is None or req.extras or not req.specifier.contains(version, prereleases=True):
                unmet.append(str(req))
        return unmet
    except Exception:
        return None


def run_pip(cmd):
    """`python -m pip ...` in a process of its own (a backend imported here must not change how pip works), its stdout sent to stderr."""
    env = dict(os.environ)
    if pip_wheel:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pip_wheel, env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "pip"] + cmd, stdout=sys.stderr.fileno(), env=env).returncode


def record_hash(data):
    """A RECORD row's hash of a file's content."""
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def record_line(relpath, data):
    return "%s,%s,%d" % (relpath, record_hash(data), len(data))


def write_direct_url(files, direct_url):
    """pip recorded the temporary export; record the real provenance instead (PEP 610), without credentials."""
    direct = [f for f in files if f.name == "direct_url.json" and f.parent.name.endswith(".dist-info")]
    if not direct:
        return
    data = json.dumps(direct_url, sort_keys=True).encode()
    with open(direct[0].locate(), "wb") as fh:
        fh.write(data)
    records = [f for f in files if f.name == "RECORD" and f.parent == direct[0].parent]
    if records:
        rpath = records[0].locate()
        lines = open(rpath, encoding="utf-8").read().splitlines()
        rel = str(direct[0]).replace(os.sep, "/")
        lines = [record_line(rel, data) if l.split(",", 1)[0] == rel else l for l in lines]
        open(rpath, "w", encoding="utf-8").write("\n".join(lines) + "\n")


def settle(paths, site):
    """Readable (and, if executable, runnable) by any uid; owned like the directory they went into."""
    owners = {}
    for p in paths:
        try:
            mode = os.lstat(p).st_mode
            if not os.path.islink(p):
                os.chmod(p, mode | 0o444 | (0o111 if mode & 0o100 else 0))
        except OSError:
            continue
        anchor = site if p.startswith(site + os.sep) else os.path.dirname(p)
        if anchor not in owners:
            st = os.stat(anchor)
            owners[anchor] = (st.st_uid, st.st_gid)
        uid, gid = owners[anchor]
        if (uid, gid) == (os.getuid(), os.getgid()):
            continue
        q = p
        while q.startswith(anchor + os.sep):
            try:
                os.lchown(q, uid, gid)
            except OSError:  # an owner the engine cannot map (rootless Podman): leave root's
                break
            q = os.path.dirname(q)


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


# What a fresh interpreter of this environment sees: every distribution of each name, and where
# each top-level name imports from (without running the package).
CHECK = r"""
import importlib.util, json, re, sys
from importlib import metadata
canonical = lambda n: re.sub(r"[-_.]+", "-", n or "").lower()
asked = json.loads(sys.argv[1])
out = {"path": sys.path, "dists": {}, "origins": {}}
for d in metadata.distributions():
    name = canonical(d.metadata["Name"])
    if name in asked:
        out["dists"].setdefault(name, []).append(str(getattr(d, "_path", "")))
for top in sorted({t for tops in asked.values() for t in tops}):
    try:
        spec = importlib.util.find_spec(top)
        out["origins"][top] = spec.origin if spec and spec.has_location else None
    except Exception:
        out["origins"][top] = None
print(json.dumps(out))
"""


def look(asked):
    """CHECK, started: what a fresh interpreter sees of the distributions and top-level names asked."""
    env = dict(os.environ)
    for k in ("TMPDIR", "TEMP", "TMP"):
        env.pop(k, None)
    return subprocess.Popen([sys.executable, "-c", CHECK, json.dumps(asked)], stdout=subprocess.PIPE, env=env, cwd="/")


def seen(looking):
    out = looking.communicate()[0]
    if looking.returncode:
        raise SystemExit(
            "nfhot: error: %s could not list the environment's distributions (exit %d)"
            % (sys.executable, looking.returncode)
        )
    return json.loads(out.decode())


def seen_by_tasks(asked):
    return seen(look(asked))


def guess_names(src, name):
    """The distribution and top-level names a source's wheel is likely to install (to look for them while it builds)."""
    tops = set()
    for base in (src, os.path.join(src, "src"), os.path.join(src, "lib"), os.path.join(src, "python")):
        for n in os.listdir(base) if os.path.isdir(base) else ():
            if n.endswith(".py") and os.path.isfile(os.path.join(base, n)):
                tops.add(n[:-3])
            elif os.path.isfile(os.path.join(base, n, "__init__.py")):
                tops.add(n)
    return {canonical(name): sorted(tops)} if name else {}


def pth_lines(entry, path):
    """The .pth lines of the environment's site directories that put `entry` on sys.path."""
    found = []
    for site in {p for p in path if os.path.isdir(p)}:
        for name in sorted(os.listdir(site)):
            if not name.endswith(".pth"):
                continue
            pth = os.path.join(site, name)
            try:
                lines = open(pth, encoding="utf-8").read().splitlines()
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
    lines = open(pth, encoding="utf-8").read().splitlines()
    kept = [l for l in lines if l != line]
    if any(l.strip() and not l.startswith("#") for l in kept):
        st = os.stat(pth)
        open(pth, "w", encoding="utf-8").write("\n".join(kept) + "\n")
        os.chown(pth, st.st_uid, st.st_gid)
    else:
        os.remove(pth)


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
    for attempt in range(2):
        seen = seen_by_tasks(asked)
        entries = sorted((os.path.normpath(p) for p in seen["path"] if p), key=len, reverse=True)
        problems = []
        for name, paths in seen["dists"].items():
            for stale in (p for p in paths if os.path.normpath(p) != os.path.normpath(ours[name])):
                problems.append((stale, "%s is listed a second time by %s" % (name, stale)))
        for top, origin in seen["origins"].items():
            if origin and os.path.realpath(origin) not in files:
                problems.append((origin, "`import %s` finds %s, not the patch" % (top, origin)))
        if not problems:
            return
        if attempt == 1:
            raise SystemExit(
                "nfhot: error: after the install, "
                + "; ".join(why for _, why in problems)
                + " (sys.path: %s)" % ":".join(seen["path"])
            )
        for where, why in problems:
            entry = next((e for e in entries if where == e or where.startswith(e + os.sep)), None)
            lines = pth_lines(entry, seen["path"]) if entry else []
            site = entry in {os.path.normpath(os.path.dirname(ours[n])) for n in ours}
            if lines and not site:
                for pth, line in lines:
                    say("%s; taking %s off sys.path (line of %s)" % (why, entry, pth))
                    drop_pth_line(pth, line)
            elif where.endswith((".dist-info", ".egg-info")) and site:
                say("%s; removing it" % why)
                remove_path(where)


def check_syntax(installed):
    """Every module the new distributions installed compiles with this Python (nothing is written)."""
    for dist in installed:
        for f in dist.files or []:
            if not str(f).endswith(".py") or str(f).startswith(".."):
                continue
            path = str(f.locate())
            try:
                compile(open(path, "rb").read(), path, "exec", dont_inherit=True)
            except SyntaxError as e:
                raise SystemExit("nfhot: error: %s:%s: %s: %s" % (f, e.lineno, type(e).__name__, e.msg))


# Files that are built rather than copied: a change to one needs the build.
COMPILED_SOURCES = (
    ".c",
    ".cc",
    ".cpp",
    ".cxx",
    ".h",
    ".hh",
    ".hpp",
    ".pyx",
    ".pxd",
    ".pxi",
    ".rs",
    ".f",
    ".f90",
    ".cu",
    ".swg",
    ".i",
)
BUILD_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "hatch.toml", "pdm.toml", "flit.ini")


def stat_of(path):
    st = os.lstat(path)
    return [st.st_mode & 0o7777, st.st_uid, st.st_gid, int(st.st_mtime)]


def source_files(src):
    """The source's files by content (before the build writes its own beside them)."""
    found = {}
    for root, _dirs, names in os.walk(src):
        for name in names:
            path = os.path.join(root, name)
            if os.path.isfile(path) and not os.path.islink(path) and not name.endswith(COMPILED_SOURCES):
                found.setdefault(hashlib.sha256(open(path, "rb").read()).hexdigest(), []).append(
                    os.path.relpath(path, src).replace(os.sep, "/")
                )
    return found


class Disk:
    """The environment as pip left it, for learn()."""

    stat = staticmethod(stat_of)

    @staticmethod
    def read(path):
        return open(path, "rb").read() if os.path.isfile(path) and not os.path.islink(path) else None


def installed_files(dist):
    """A pip install's RECORD entries and where each is, and the RECORD's own entry."""
    record = next((f for f in dist.files or [] if f.name == "RECORD" and f.parent.name.endswith(".dist-info")), None)
    return {str(f): os.path.normpath(str(f.locate())) for f in dist.files or []}, record and str(record)


def learn(where, record, fs, src, sources):
    """
    Where the install put each source file it copied verbatim, found by content: an installed
    file whose bytes are those of exactly one source file (of several, the one whose path ends
    the same way). With the stat of each file and of the directories above it, the bytecode of
    each module and the RECORD, a later change to such a file can be written as a layer without
    running the build. A file the build reads for metadata (a version, a path named in its
    configuration) is marked: a change to it needs the build.
    `where`: each RECORD entry and its path; `record`: the RECORD's entry; `fs`: how the
    installed files are read and stat'ed (Disk, or the layer about to be written).
    """

    def read(name):
        try:
            return open(os.path.join(src, name), encoding="utf-8", errors="replace").read()
        except OSError:
            return ""

    pyproject = read("pyproject.toml")
    build_text = "\n".join(read(name) for name in BUILD_FILES)
    # A version written in pyproject.toml's [project] and not declared dynamic: nothing reads __version__ for it (setup.py cannot change it).
    project = build.pyproject(src).get("project")
    if project is not None:
        dynamic = "version" in project.get("dynamic", []) or "version" not in project
    else:
        dynamic = (
            re.search(r"^\s*dynamic\s*=", pyproject, re.M)
            or not re.search(r"^\s*version\s*=\s*[\"']", pyproject, re.M)
            or os.path.exists(os.path.join(src, "setup.py"))
        )
    flit = "flit" in pyproject and dynamic
    attrs = {m.rsplit(".", 1)[0] for m in re.findall(r"\battr\s*[:=]\s*[\"']?\s*([\w.]+)", build_text)}
    if record is None:
        return None
    pycs = {}
    for entry in where:
        head, name = os.path.split(entry)
        if os.path.basename(head) == "__pycache__" and name.endswith(".pyc"):
            pycs.setdefault(os.path.join(os.path.dirname(head), name.split(".", 1)[0] + ".py"), []).append(entry)
    meta_dir = record.rsplit("/", 1)[0] + "/"
    files, dirs = {}, {}

    def keep_dirs(path):
        parent = os.path.dirname(path)
        while parent not in dirs and parent != os.path.dirname(parent):
            dirs[parent] = fs.stat(parent)
            parent = os.path.dirname(parent)

    for entry, dest in where.items():
        data = None if entry.startswith(meta_dir) or entry.endswith(".pyc") else fs.read(dest)
        if data is None:
            continue
        parts = entry.split("/")

        def common_tail(rel):
            a, n = rel.split("/"), 0
            while n < min(len(a), len(parts)) and a[-1 - n] == parts[-1 - n]:
                n += 1
            return n

        scored = sorted(((common_tail(c), c) for c in sources.get(hashlib.sha256(data).hexdigest(), [])), reverse=True)
        if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
            continue  # not copied verbatim, or which source it is cannot be told
        score, rel = scored[0]
        # The same name at least; an empty file (a generated __init__.py, say) only at the same path.
        if score < (len(parts) if not data else 1):
            continue
        text = data.decode("utf-8", "replace")
        meta = rel in build_text or bool(dynamic and re.search(r"^\s*__version__\s*[:=]", text, re.M))
        if rel.endswith(".py"):
            module = rel[:-3].split("/")
            module = module[:-1] if module[-1] == "__init__" else module
            # setuptools' `attr: pkg.mod.__version__` (setup.cfg) or `{attr = "pkg.mod.VERSION"}` (pyproject.toml).
            meta = meta or any(".".join(module[i:]) in attrs for i in range(len(module)))
            # flit takes the version and description from the top-level module or package.
            meta = meta or (flit and (len(parts) == 1 or parts[1:] == ["__init__.py"]))
        pyc = [{"entry": e, "dest": where[e]} for e in pycs.get(entry, [])]
        for p in [dest] + [p["dest"] for p in pyc]:
            keep_dirs(p)
        files.setdefault(rel, []).append(
            {"dest": dest, "entry": entry, "stat": fs.stat(dest), "meta": meta, "pyc": pyc}
        )
    path = where[record]
    keep_dirs(path)
    return {
        "record": {
            "dest": path,
            "entry": record,
            "stat": fs.stat(path),
            "text": fs.read(path).decode("utf-8").replace("\r\n", "\n"),
        },
        "files": files,
        "dirs": dirs,
    }


def cleanup():
    """The job's files go with the last interpreter's job (the others' sources are there too)."""
    if job.get("last", True):
        shutil.rmtree(job["root"], ignore_errors=True)


def requirements_of(wheel):
    """The wheel's Requires-Dist."""
    import email.parser
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(z.read(name).decode("utf-8")).get_all("Requires-Dist") or []


def usable(wheel):
    """A wheel built by another interpreter: pure, or for this one's Python."""
    tags = os.path.basename(wheel)[:-4].split("-")[-3:]
    return build.pure(wheel) or tags[0] == "cp%d%d" % sys.version_info[:2]


def build_elsewhere(i, src, facts, missing):
    """
    The wheel built by another interpreter of the image that has the source's backend, and which;
    else None, and `missing` narrowed to what none of them has.
    """
    for python in job.get("builders") or []:
        out = os.path.join(job["root"], "wheels", str(i))
        done = subprocess.run(
            [python, BUILD_PY, src, out, json.dumps(facts) if facts else ""],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd="/",
        )
        try:
            answer = json.loads(done.stdout.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            continue
        if answer.get("wheel") and usable(answer["wheel"]):
            if answer.get("version"):
                say(
                    "%s: version %s from git (%s)"
                    % (facts.get("name") or "the package", answer["version"], answer["how"])
                )
            return answer["wheel"], python
        if answer.get("missing") is not None:
            missing[:] = [m for m in missing if m in answer["missing"]]
        if answer.get("failed"):
            say("%s has the backend but could not build %s: %s" % (python, os.path.basename(src), answer["failed"]))
    return None


def uninstalled(info):
    """
    What pip's uninstall of the distribution at `info` removes: the files its RECORD lists, with
    the bytecode of its modules, and, where every file under a directory goes, the directory
    (pip's compress_for_rename).
    """
    import csv
    import importlib.util

    site = os.path.dirname(info)
    paths = set()
    with open(os.path.join(info, "RECORD"), encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            if not row:
                continue
            p = os.path.normpath(os.path.join(site, row[0]))
            paths.add(p)
            if p.endswith(".py"):
                paths.update((p[:-3] + ".pyc", p[:-3] + ".pyo", importlib.util.cache_from_source(p)))
    paths = {p for p in paths if os.path.lexists(p)}
    whole = set()
    for root in sorted({os.path.dirname(p) for p in paths}, key=len):
        if any(root == w or root.startswith(w + os.sep) for w in whole):
            continue
        every = {os.path.join(d, f) for d, _, names in os.walk(root) for f in names}
        if not every - paths:
            paths -= every
            whole.add(root)
    return paths | whole


class Planned:
    """The files and directories of the layer about to be written, for learn()."""

    def __init__(self, files, dirs):
        self.files, self.dirs = files, dirs

    def stat(self, path):
        return self.files[path][1] if path in self.files else self.dirs[path]

    def read(self, path):
        return open(self.files[path][0], "rb").read() if path in self.files else None


def pip_installer():
    """pip's own installer and what it needs (its imports take a while: done while the wheel builds), or why it cannot be had."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # setuptools, imported by a build, warns when pip's imports ask for distutils
            from pip._internal.configuration import Configuration
            from pip._internal.locations import get_scheme
            from pip._internal.models.direct_url import DirectUrl
            from pip._internal.models.scheme import Scheme
            from pip._internal.operations.install.wheel import install_wheel
        return Configuration, get_scheme, DirectUrl, Scheme, install_wheel
    except Exception as e:
        return "this pip's installer cannot be called on its own (%s: %s)" % (type(e).__name__, e)


def compile_staged(stage, lib, info):
    """
    The bytecode pip compiles as it installs, for each module the wheel put in place (its
    __pycache__, this interpreter's tag), compiled as if where it goes (its path in tracebacks),
    and listed in the RECORD, whose rows pip sorts; a module that does not compile gets none.
    """
    import csv
    import importlib.util
    import py_compile
    import warnings

    record = os.path.join(stage + lib, info, "RECORD")
    with open(record, encoding="utf-8", newline="") as fh:
        rows = [tuple(r) for r in csv.reader(fh) if r]
    for row in list(rows):
        real = os.path.normpath(os.path.join(lib, row[0]))
        if not real.endswith(".py") or not os.path.isfile(stage + real):
            continue
        pyc = importlib.util.cache_from_source(real)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                py_compile.compile(stage + real, cfile=stage + pyc, dfile=real, doraise=True)
        except py_compile.PyCompileError:
            continue
        data = open(stage + pyc, "rb").read()
        rows.append((os.path.relpath(pyc, lib).replace(os.sep, "/"), record_hash(data), str(len(data))))
    with open(record, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(sorted(rows))


def as_layer(source, wheel, installer):
    """
    The install of the new wheel as one layer that nfhot writes, with no pip run and no commit:
    pip's own installer puts the wheel's files in a staging copy of the scheme pip would install
    into (RECORD, INSTALLER, REQUESTED, direct_url.json, console scripts for this interpreter, the
    bytecode pip compiles), owned and moded as settle() leaves a pip install; what pip's uninstall
    of the installed distribution would remove becomes whiteouts. Returns the report (installed, layer,
    learned), or why pip must install it: anything this cannot do as pip would.
    """
    import email.parser
    import stat
    import zipfile

    if isinstance(installer, str):
        return installer
    Configuration, get_scheme, DirectUrl, Scheme, install_wheel = installer
    try:
        conf = Configuration(isolated=False)
        conf.load()
        settings = {k.split(".", 1)[-1]: v for k, v in conf.items()}
    except Exception as e:
        return "pip's configuration cannot be read (%s)" % e
    for key in ("target", "prefix", "root", "home", "user"):
        value = str(settings.get(key) or "")
        if value and value.lower() not in ("0", "false", "no", "off"):
            return "pip is configured to install elsewhere (%s = %s)" % (key, value)
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        info = next(n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")).split("/")[0]
        meta = email.parser.Parser().parsestr(z.read(info + "/METADATA").decode("utf-8"))
        purelib = (
            email.parser.Parser()
            .parsestr(z.read(info + "/WHEEL").decode("utf-8"))
            .get("Root-Is-Purelib", "")
            .strip()
            .lower()
            == "true"
        )
    name, version = meta["Name"], meta["Version"]
    for n in names:
        top, _, rest = n.partition("/")
        if not rest and n.endswith(".pth"):
            return "its wheel has a .pth file (%s)" % n
        if top.endswith(".data") and rest.split("/")[0] in ("headers", "data"):
            return "its wheel installs into the %s scheme (%s)" % (rest.split("/")[0], n)
    scheme = get_scheme(name)
    lib = os.path.normpath(scheme.purelib if purelib else scheme.platlib)
    key = canonical(name)
    asked = {key: top_level(names)}
    # What was looked for while the wheel built, when that covers it.
    guessed = looked[0].get(key) if looked else None
    view = seen(looked[1]) if guessed is not None and set(asked[key]) <= set(guessed) else seen_by_tasks(asked)
    if lib not in {os.path.normpath(p) for p in view["path"] if p}:
        return "%s, where pip installs, is not on the environment's sys.path" % lib
    old = view["dists"].get(key, [])
    if len(old) > 1:
        return "%s is listed %d times (%s)" % (name, len(old), ", ".join(old))
    for top in asked[key]:
        origin = view["origins"].get(top)
        if origin and not os.path.realpath(origin).startswith(os.path.realpath(lib) + os.sep):
            return "`import %s` finds %s, outside %s" % (top, origin, lib)
    removed = set()
    if old:
        was = os.path.normpath(old[0])
        if not was.endswith(".dist-info") or not os.path.isfile(os.path.join(was, "RECORD")):
            return "the installed %s (%s) is not a .dist-info with a RECORD" % (name, was)
        if os.path.realpath(os.path.dirname(was)) != os.path.realpath(lib):
            return "the installed %s is in %s, not in %s where pip installs" % (name, os.path.dirname(was), lib)
        try:
            direct = json.load(open(os.path.join(was, "direct_url.json"), encoding="utf-8"))
        except Exception:
            direct = {}
        if (direct.get("dir_info") or {}).get("editable"):
            return "the installed %s is an editable install" % name
        removed = uninstalled(was)
    stage = os.path.join(job["root"], "stage")
    staged = Scheme(
        **{
            k: stage + os.path.normpath(getattr(scheme, k))
            for k in ("platlib", "purelib", "headers", "scripts", "data")
        }
    )
    try:
        install_wheel(
            name,
            wheel,
            scheme=staged,
            req_description=name,
            pycompile=False,
            warn_script_location=False,
            direct_url=DirectUrl.from_dict(source["directUrl"]),
            requested=True,
        )
    except Exception as e:
        return "pip's installer could not stage it (%s: %s)" % (type(e).__name__, e)
    compile_staged(stage, lib, info)
    written = {os.path.join(d, f)[len(stage) :]: os.path.join(d, f) for d, _, fs in os.walk(stage) for f in fs}
    owners = {}

    def owner(p):
        """The owner settle() gives a path: the site directory's under it, else its directory's."""
        anchor = lib if p.startswith(lib + os.sep) else os.path.dirname(p)
        while not os.path.isdir(anchor):
            anchor = os.path.dirname(anchor)
        if anchor not in owners:
            st = os.stat(anchor)
            owners[anchor] = [st.st_uid, st.st_gid]
        return owners[anchor]

    files = {}
    for real, path in written.items():
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or (os.path.isdir(real) and not os.path.islink(real)):
            return "%s would replace a directory, or is not a file" % real
        mode = stat.S_IMODE(st.st_mode)
        # Its time as staged: the bytecode compiled from it says that time.
        files[real] = (path, [mode | 0o444 | (0o111 if mode & 0o100 else 0)] + owner(real) + [int(st.st_mtime)])
    whiteouts = set()

    def hide(p):
        """pip removes p: it is hidden, but for the new files under it."""
        if p in files:
            return
        if os.path.isdir(p) and not os.path.islink(p) and any(f.startswith(p + os.sep) for f in files):
            for child in os.listdir(p):
                hide(os.path.join(p, child))
        else:
            whiteouts.add(p)

    for p in removed:
        hide(p)
    # Every directory above, as it is (or, new, as pip makes it): a layer that lacks one would change its owner.
    dirs = {}
    for p in list(files) + list(whiteouts):
        d = os.path.dirname(p)
        while d != "/" and d not in dirs:
            if os.path.islink(d) or (os.path.lexists(d) and not os.path.isdir(d)):
                return "%s is a symbolic link or a file: a layer would replace it with a directory" % d
            if os.path.isdir(d):
                dirs[d] = stat_of(d)
            else:  # new: as staged, owned as settle() leaves it
                mode, _, _, mtime = stat_of(stage + d)
                dirs[d] = [mode] + owner(d) + [mtime]
            d = os.path.dirname(d)
    if job.get("checkSyntax"):
        for real, (path, _) in files.items():
            if real.endswith(".py"):
                try:
                    compile(open(path, "rb").read(), real, "exec", dont_inherit=True)
                except SyntaxError as e:
                    raise SystemExit(
                        "nfhot: error: %s:%s: %s: %s" % (os.path.relpath(real, lib), e.lineno, type(e).__name__, e.msg)
                    )
    learned = None
    if exported is not None:
        import csv

        with open(files[os.path.join(lib, info, "RECORD")][0], encoding="utf-8", newline="") as fh:
            where = {row[0]: os.path.normpath(os.path.join(lib, row[0])) for row in csv.reader(fh) if row}
        learned = learn(where, info + "/RECORD", Planned(files, dirs), source["dir"], exported)
    layer = [{"kind": "dir", "path": d, "stat": st} for d, st in dirs.items()]
    layer += [{"kind": "whiteout", "path": p} for p in whiteouts]
    layer += [
        {"kind": "file", "path": real, "stat": st, "data": base64.b64encode(open(path, "rb").read()).decode()}
        for real, (path, st) in files.items()
    ]
    layer.sort(key=lambda e: e["path"].split("/"))
    # "layer" first: nfhot reads the answer as whole when its last line starts so.
    return {
        "layer": layer,
        "installed": [{"name": name, "version": version, "source": source.get("id", 0)}],
        "learned": learned,
    }


# PIP_BREAK_SYSTEM_PACKAGES: the image is the user's. PIP_USER=0: into the environment or fail; never into root's ~/.local, which the tasks' uid cannot see.
os.environ.update(
    PIP_BREAK_SYSTEM_PACKAGES="1", PIP_ROOT_USER_ACTION="ignore", PIP_USER="0", PYTHONDONTWRITEBYTECODE="1"
)
PIP_ENV = os.path.join(job["root"], "pip-env.json")
if os.path.exists(PIP_ENV):
    os.environ.update(json.load(open(PIP_ENV)))
    os.remove(PIP_ENV)

exported = source_files(sources[0]["dir"]) if job.get("learn") else None

# Each source's wheel: built here in this process (one source, its backend here), given (built on
# the host), or built by another interpreter of the image; else pip builds the source itself.
wheels, needs = {}, []
installer, looked = None, None


def hand_version(s, only):
    """Hands the build of source `s` the version git gives it, and says which (an interpreter that builds it elsewhere does this itself)."""
    if not s.get("version"):
        return
    try:
        version, how = build.hand_version(s["dir"], s["version"], s.get("name"), only=only)
        say("%s: version %s from git (%s)" % (s.get("name") or "the package", version, how))
    except ValueError as e:
        say(
            "%s: the version git gives it cannot be computed here (%s); the build gets none"
            % (s.get("name") or "the package", e)
        )


for i, s in enumerate(sources):
    src = s["dir"]
    if s.get("wheel"):
        wheels[i] = s["wheel"]
        continue
    missing = build.missing_requirements(src)
    if not missing and job.get("layer") and len(sources) == 1:
        # The build in a process of its own, while this one readies pip's installer.
        facts = dict(s["version"], name=s.get("name")) if s.get("version") else None
        guessed = guess_names(src, s.get("name"))
        looked = (guessed, look(guessed)) if guessed else None
        building = subprocess.Popen(
            [
                sys.executable,
                BUILD_PY,
                src,
                os.path.join(job["root"], "wheels", str(i)),
                json.dumps(facts) if facts else "",
            ],
            stdout=subprocess.PIPE,
            cwd="/",
        )
        installer = pip_installer()
        try:
            answer = json.loads(building.communicate()[0].decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            answer = {"failed": "the build exited with %d" % building.returncode}
        if answer.get("version"):
            say("%s: version %s from git (%s)" % (s.get("name") or "the package", answer["version"], answer["how"]))
        if answer.get("wheel"):
            wheels[i] = answer["wheel"]
            say("built %s with %s" % (os.path.basename(answer["wheel"]), build.build_system(src)["build-backend"]))
        else:
            say(
                "the wheel did not build (%s): pip builds the source"
                % str(answer.get("failed") or answer).split(":")[0]
            )
        continue
    if not missing:
        hand_version(s, only=len(sources) == 1)
        if len(sources) == 1:
            wheel, failure = build.build_wheel(src, os.path.join(job["root"], "wheels", str(i)))
            if wheel:
                wheels[i] = wheel
                say(
                    "built %s with %s in this process"
                    % (os.path.basename(wheel), build.build_system(src)["build-backend"])
                )
            else:
                # pip builds it again, and says why when it fails too: said once, by pip.
                say("the wheel did not build in this process (%s): pip builds the source" % failure.split(":")[0])
        continue
    lacking = list(missing)
    elsewhere = build_elsewhere(i, src, dict(s["version"], name=s.get("name")) if s.get("version") else None, lacking)
    if elsewhere:
        wheels[i] = elsewhere[0]
        say(
            "built %s with %s (this environment lacks %s)"
            % (os.path.basename(elsewhere[0]), elsewhere[1], ", ".join(missing))
        )
        continue
    needs.append({"source": s.get("id", i), "missing": lacking, "backend": build.build_system(src)["build-backend"]})
if needs and not job.get("isolated"):
    cleanup()
    print(json.dumps({"needs": needs, "searched": [sys.executable] + (job.get("builders") or [])}))
    sys.exit(75)  # EX_TEMPFAIL: nfhot builds the wheel elsewhere and starts again

if job.get("layer"):
    # Without pip when it can be done with certainty: one wheel, built here, nothing it requires missing.
    if len(sources) > 1:
        why_pip = "the image's other patches are installed again with it"
    elif 0 not in wheels:
        why_pip = "its wheel was not built in this process"
    else:
        unmet = [] if job["noDeps"] else unmet_requirements(wheels[0])
        why_pip = (
            "it requires %s, which the environment lacks" % ", ".join(unmet)
            if unmet
            else "what it requires cannot be checked"
            if unmet is None
            else as_layer(sources[0], wheels[0], installer or pip_installer())
        )
    if (
        isinstance(why_pip, str)
        and (0 not in wheels or why_pip.startswith(("it requires", "what it requires")))
        and not job["noDeps"]
    ):
        # This container has no network: pip, which may need an index, runs in one that has.
        cleanup()
        print(json.dumps({"network": why_pip}))
        sys.exit(76)
    if isinstance(why_pip, dict):
        cleanup()
        print(json.dumps(why_pip))
        sys.exit(0)
else:
    why_pip = None
replace_unrecorded(job.get("replace") or [])

base = ["install", "--no-cache-dir", "--disable-pip-version-check", "--no-input"]
has_report = (installed_version("pip") or (0, 0)) >= (22, 2)
reports = []


def pip(args, targets):
    """One pip install, its report kept; exits with pip's status when it fails."""
    cmd = base + args
    if has_report:
        reports.append(os.path.join(job["root"], "report-%d.json" % len(reports)))
        cmd += ["--report", reports[-1]]
    sys.stderr.write("$ %s\n" % " ".join(["pip"] + cmd + targets))
    sys.stderr.flush()
    rc = run_pip(cmd + targets)
    if rc != 0:
        cleanup()
        sys.exit(rc)


built = [wheels[i] for i in sorted(wheels)]
if built and not job["noDeps"]:
    # What the new wheels require that the environment lacks; the rest is left as it is.
    unmet = []
    for wheel in built:
        found = unmet_requirements(wheel)
        unmet += requirements_of(wheel) if found is None else found
    if unmet:
        say(
            "%s: installing what %s require%s that the environment lacks"
            % (
                ", ".join(sorted(set(unmet))),
                "they" if len(built) > 1 else os.path.basename(built[0]),
                "" if len(built) > 1 else "s",
            )
        )
        pip([], sorted(set(unmet)))
if built:
    pip(["--force-reinstall", "--no-deps"], built)
rest = [s["dir"] for i, s in enumerate(sources) if i not in wheels]
for i, s in enumerate(sources):
    if i not in wheels and build.missing_requirements(s["dir"]):
        hand_version(s, only=False)  # pip builds it in isolation, with the backend it fetches
if rest:
    # Offline images can build only with the backend they already have: no isolation when it is here.
    here = all(not build.missing_requirements(d) for d in rest)
    pip((["--no-build-isolation"] if here else []) + (["--no-deps"] if job["noDeps"] else []), rest)
targets = [wheels.get(i, s["dir"]) for i, s in enumerate(sources)]


def file_path(url):
    """The local path a file: URL names, as pip writes it (percent-encoded: `+` of a local version is %2B)."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url or "")
    return os.path.normpath(unquote(parts.path)) if parts.scheme == "file" and parts.path else None


# Which distribution came from which source: pip's report, else the direct_url.json pip wrote.
by_id = {s.get("id", i): s for i, s in enumerate(sources)}
paths = {os.path.normpath(t): sources[i].get("id", i) for i, t in enumerate(targets)}
result = []
if has_report:
    for report in reports:
        for item in json.load(open(report)).get("install", []):
            meta = item.get("metadata", {})
            path = file_path((item.get("download_info") or {}).get("url"))
            result.append({"name": meta.get("name"), "version": meta.get("version"), "source": paths.get(path)})
else:
    for dist in metadata.distributions():
        raw = dist.read_text("direct_url.json")
        path = file_path(json.loads(raw).get("url")) if raw else None
        if path in paths:
            result.append({"name": dist.metadata["Name"], "version": dist.version, "source": paths[path]})

installed, first = [], None
for entry in result:
    # This process's sys.path may still reach an older copy: take the one pip just installed.
    dist = next(
        (
            d
            for d in metadata.distributions()
            if canonical(d.metadata["Name"]) == canonical(entry["name"]) and d.version == entry["version"]
        ),
        None,
    )
    if dist is None:
        continue
    files = dist.files or []
    if entry["source"] is not None:
        write_direct_url(files, by_id[entry["source"]]["directUrl"])
        installed.append(dist)
        first = dist if entry["source"] == 0 else first
    settle([str(f.locate()) for f in files], os.path.dirname(location(dist)))

if job.get("checkSyntax"):
    check_syntax(installed)
unshadow(installed)
learned = learn(*installed_files(first), Disk, sources[0]["dir"], exported) if exported is not None and first else None
cleanup()
print(json.dumps({"installed": result, "learned": learned, "pip": why_pip}))
