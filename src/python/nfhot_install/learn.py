"""
Where an install put each file of the source, for the syncs after it: a later change to a file
copied verbatim is written as a layer, without the build.
"""

import hashlib
import os
import re

from nfhot_install import build

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


def read_bytes(path):
    with open(path, "rb") as fh:
        return fh.read()


def source_files(src):
    """The source's files by content (before the build writes its own beside them)."""
    found = {}
    for root, _dirs, names in os.walk(src):
        for name in names:
            path = os.path.join(root, name)
            if os.path.isfile(path) and not os.path.islink(path) and not name.endswith(COMPILED_SOURCES):
                found.setdefault(hashlib.sha256(read_bytes(path)).hexdigest(), []).append(
                    os.path.relpath(path, src).replace(os.sep, "/")
                )
    return found


class Disk:
    """The environment as pip left it, for learn()."""

    stat = staticmethod(stat_of)

    @staticmethod
    def read(path):
        return read_bytes(path) if os.path.isfile(path) and not os.path.islink(path) else None


class Planned:
    """The files ({path: (staged copy, stat)}) and directories ({path: stat}) of the layer about to be written, for learn()."""

    def __init__(self, files, dirs):
        self.files, self.dirs = files, dirs

    def stat(self, path):
        return self.files[path][1] if path in self.files else self.dirs[path]

    def read(self, path):
        return read_bytes(self.files[path][0]) if path in self.files else None


def installed_files(dist):
    """A pip install's RECORD entries and where each is, and the RECORD's own entry."""
    record = next((f for f in dist.files or [] if f.name == "RECORD" and f.parent.name.endswith(".dist-info")), None)
    return {str(f): os.path.normpath(str(f.locate())) for f in dist.files or []}, record and str(record)


class Metadata:
    """What of the source its build reads for metadata: a change to it needs the build."""

    def __init__(self, src):
        def read(name):
            try:
                with open(os.path.join(src, name), encoding="utf-8", errors="replace") as fh:
                    return fh.read()
            except OSError:
                return ""

        pyproject = read("pyproject.toml")
        self.build_text = "\n".join(read(name) for name in BUILD_FILES)
        # A version written in pyproject.toml's [project] and not declared dynamic: nothing reads
        # __version__ for it (setup.py cannot change it).
        project = build.pyproject(src).get("project")
        if project is not None:
            self.dynamic = "version" in project.get("dynamic", []) or "version" not in project
        else:
            self.dynamic = bool(
                re.search(r"^\s*dynamic\s*=", pyproject, re.M)
                or not re.search(r"^\s*version\s*=\s*[\"']", pyproject, re.M)
                or os.path.exists(os.path.join(src, "setup.py"))
            )
        self.flit = "flit" in pyproject and self.dynamic
        self.attrs = {m.rsplit(".", 1)[0] for m in re.findall(r"\battr\s*[:=]\s*[\"']?\s*([\w.]+)", self.build_text)}

    def read_by_build(self, rel, parts, data):
        """Whether the build reads source file `rel` (installed at RECORD entry `parts`) for metadata."""
        text = data.decode("utf-8", "replace")
        if rel in self.build_text or (self.dynamic and re.search(r"^\s*__version__\s*[:=]", text, re.M)):
            return True
        if not rel.endswith(".py"):
            return False
        module = rel[:-3].split("/")
        module = module[:-1] if module[-1] == "__init__" else module
        # setuptools' `attr: pkg.mod.__version__` (setup.cfg) or `{attr = "pkg.mod.VERSION"}` (pyproject.toml).
        if any(".".join(module[i:]) in self.attrs for i in range(len(module))):
            return True
        # flit takes the version and description from the top-level module or package.
        return bool(self.flit and (len(parts) == 1 or parts[1:] == ["__init__.py"]))


def source_of(parts, data, sources):
    """The one source file an installed file (RECORD entry split by "/") is a verbatim copy of, or None."""

    def common_tail(rel):
        a, n = rel.split("/"), 0
        while n < min(len(a), len(parts)) and a[-1 - n] == parts[-1 - n]:
            n += 1
        return n

    scored = sorted(((common_tail(c), c) for c in sources.get(hashlib.sha256(data).hexdigest(), [])), reverse=True)
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None  # not copied verbatim, or which source it is cannot be told
    score, rel = scored[0]
    # The same name at least; an empty file (a generated __init__.py, say) only at the same path.
    return rel if score >= (len(parts) if not data else 1) else None


def learn(where, record, fs, src, sources):
    """
    Where the install put each source file it copied verbatim, found by content: an installed
    file whose bytes are those of exactly one source file (of several, the one whose path ends
    the same way). With the stat of each file and of the directories above it, the bytecode of
    each module and the RECORD, a later change to such a file can be written as a layer without
    running the build. A file the build reads for metadata (a version, a path named in its
    configuration) is marked: a change to it needs the build.
    `where`: each RECORD entry and its path; `record`: the RECORD's entry; `fs`: how the
    installed files are read and stat'ed (Disk, or the layer about to be written, Planned);
    `sources`: source_files() of `src`.
    """
    if record is None:
        return None
    metadata = Metadata(src)
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
        parts = entry.split("/")
        rel = source_of(parts, data, sources) if data is not None else None
        if rel is None:
            continue
        pyc = [{"entry": e, "dest": where[e]} for e in pycs.get(entry, [])]
        for p in [dest] + [p["dest"] for p in pyc]:
            keep_dirs(p)
        meta = metadata.read_by_build(rel, parts, data)
        files.setdefault(rel, []).append(
            {"dest": dest, "entry": entry, "stat": fs.stat(dest), "meta": meta, "pyc": pyc}
        )
    path = where[record]
    keep_dirs(path)
    text = fs.read(path).decode("utf-8").replace("\r\n", "\n")
    return {
        "record": {"dest": path, "entry": record, "stat": fs.stat(path), "text": text},
        "files": files,
        "dirs": dirs,
    }
