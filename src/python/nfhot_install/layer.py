"""
The install of one new wheel as a layer nfhot writes, with no pip run and no commit: pip's own
installer stages the wheel into a copy of the scheme pip would install into, and what pip's
uninstall of the installed distribution would remove becomes whiteouts.
"""

import csv
import hashlib
import io
import json
import os
import stat
import tarfile

from nfhot_install.bytecode import compile_staged
from nfhot_install.environment import Owners, View, check_syntax, top_level
from nfhot_install.job import Layered
from nfhot_install.learn import Planned, learn, stat_of
from nfhot_install.pip import wheel_info
from nfhot_install.util import canonical

SCHEME_KEYS = ("platlib", "purelib", "headers", "scripts", "data")


def as_layer(job, source, wheel, installer, view=None, exported=None, early=None):
    """
    The layer (Layered: its tar, written where the job says; what was installed; what was
    learned for syncs): the wheel's files as pip installs them (RECORD, INSTALLER, REQUESTED,
    direct_url.json, console scripts for this interpreter, the bytecode pip compiles), owned and
    moded as settle() leaves a pip install, the old distribution's files hidden. Or why pip must install it (a string):
    anything this cannot do as pip would. `view`: a View started while the wheel built;
    `exported`: the source's files (learn.source_files) when the syncs are to learn; `early`: a
    bytecode.Early, code compiled from the source while the wheel built.
    """
    if isinstance(installer, str):
        return installer
    Configuration, get_scheme, DirectUrl, Scheme, install_wheel = installer
    why = configured_elsewhere(Configuration)
    if why:
        return why
    names, info, meta, purelib = wheel_info(wheel)
    name, version = meta["Name"], meta["Version"]
    why = unlike_pip(names)
    if why:
        return why
    scheme = get_scheme(name)
    lib = os.path.normpath(scheme.purelib if purelib else scheme.platlib)
    asked = {canonical(name): top_level(names)}
    seen = (view if view is not None and view.covers(asked) else View(asked)).seen()
    old, why = replaced(name, lib, asked, seen)
    if why:
        return why
    removed = uninstalled(old) if old else set()
    stage = os.path.join(job.root, "stage")
    staged = Scheme(**{k: stage + os.path.normpath(getattr(scheme, k)) for k in SCHEME_KEYS})
    try:
        install_wheel(
            name,
            wheel,
            scheme=staged,
            req_description=name,
            pycompile=False,
            warn_script_location=False,
            direct_url=DirectUrl.from_dict(source.direct_url),
            requested=True,
        )
    except Exception as e:
        return "pip's installer could not stage it (%s: %s)" % (type(e).__name__, e)
    compile_staged(stage, lib, info, early)
    owner = Owners(lib)
    files = staged_files(stage, owner)
    if isinstance(files, str):
        return files
    whiteouts = hidden(removed, files)
    dirs = dirs_above(list(files) + list(whiteouts), stage, owner)
    if isinstance(dirs, str):
        return dirs
    if job.check_syntax:
        check_syntax((path, os.path.relpath(real, lib)) for real, (path, _) in files.items())
    learned = None
    if exported is not None:
        with open(files[os.path.join(lib, info, "RECORD")][0], encoding="utf-8", newline="") as fh:
            where = {row[0]: os.path.normpath(os.path.join(lib, row[0])) for row in csv.reader(fh) if row}
        learned = learn(where, info + "/RECORD", Planned(files, dirs), source.dir, exported)
    return Layered(
        layer=write_tar(job.layer, files, whiteouts, dirs),
        installed=[{"name": name, "version": version, "source": source.id}],
        learned=learned,
    )


def configured_elsewhere(Configuration):
    """Why pip's configuration sends installs elsewhere than the environment (--target, --user, …), or None."""
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
    return None


def unlike_pip(names):
    """What of the wheel's files a layer would not install as pip does (a .pth, the headers or data scheme), or None."""
    for n in names:
        top, _, rest = n.partition("/")
        if not rest and n.endswith(".pth"):
            return "its wheel has a .pth file (%s)" % n
        if top.endswith(".data") and rest.split("/")[0] in ("headers", "data"):
            return "its wheel installs into the %s scheme (%s)" % (rest.split("/")[0], n)
    return None


def replaced(name, lib, asked, seen):
    """The installed distribution's metadata directory the wheel replaces (or None), and why not a layer (or None)."""
    if lib not in {os.path.normpath(p) for p in seen["path"] if p}:
        return None, "%s, where pip installs, is not on the environment's sys.path" % lib
    key = canonical(name)
    old = seen["dists"].get(key, [])
    if len(old) > 1:
        return None, "%s is listed %d times (%s)" % (name, len(old), ", ".join(old))
    for top in asked[key]:
        origin = seen["origins"].get(top)
        if origin and not os.path.realpath(origin).startswith(os.path.realpath(lib) + os.sep):
            return None, "`import %s` finds %s, outside %s" % (top, origin, lib)
    if not old:
        return None, None
    was = os.path.normpath(old[0])
    if not was.endswith(".dist-info") or not os.path.isfile(os.path.join(was, "RECORD")):
        return None, "the installed %s (%s) is not a .dist-info with a RECORD" % (name, was)
    if os.path.realpath(os.path.dirname(was)) != os.path.realpath(lib):
        return None, "the installed %s is in %s, not in %s where pip installs" % (name, os.path.dirname(was), lib)
    try:
        with open(os.path.join(was, "direct_url.json"), encoding="utf-8") as fh:
            direct = json.load(fh)
    except Exception:
        direct = {}
    if (direct.get("dir_info") or {}).get("editable"):
        return None, "the installed %s is an editable install" % name
    return was, None


def staged_files(stage, owner):
    """{path in the image: (staged copy, [mode, uid, gid, mtime])}, moded as settle() leaves them; or why not."""
    files = {}
    for d, _, names in os.walk(stage):
        for f in names:
            path = os.path.join(d, f)
            real = path[len(stage) :]
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or (os.path.isdir(real) and not os.path.islink(real)):
                return "%s would replace a directory, or is not a file" % real
            mode = stat.S_IMODE(st.st_mode)
            # Its time as staged: the bytecode compiled from it says that time.
            files[real] = (path, [mode | 0o444 | (0o111 if mode & 0o100 else 0)] + owner(real) + [int(st.st_mtime)])
    return files


def hidden(removed, files):
    """The whiteouts for what pip's uninstall removes: each path, but for the new files under it."""
    whiteouts = set()

    def hide(p):
        if p in files:
            return
        if os.path.isdir(p) and not os.path.islink(p) and any(f.startswith(p + os.sep) for f in files):
            for child in os.listdir(p):
                hide(os.path.join(p, child))
        else:
            whiteouts.add(p)

    for p in removed:
        hide(p)
    return whiteouts


def dirs_above(paths, stage, owner):
    """Every directory above, as it is (or, new, as pip makes it): a layer that lacks one would change its owner."""
    dirs = {}
    for p in paths:
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
    return dirs


def write_tar(path, files, whiteouts, dirs):
    """
    The layer as Docker loads it, written to `path`: a tar of the directories (as they are),
    whiteouts (`.wh.NAME`) and files with their modes, owners and times, parents first. Its size
    and digest (the layer's diff ID) are in the answer: nfhot streams it to the engine as it is.
    """
    members = [(d, "dir", st) for d, st in dirs.items()]
    members += [(p, "whiteout", None) for p in whiteouts]
    members += [(real, "file", st) for real, (_, st) in files.items()]
    members.sort(key=lambda m: m[0].split("/"))
    digest = hashlib.sha256()

    class Hashing(io.RawIOBase):
        def __init__(self, out):
            self.out = out

        def writable(self):
            return True

        def write(self, data):
            digest.update(data)
            return self.out.write(data)

    with open(path, "wb") as out, tarfile.open(fileobj=Hashing(out), mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for real, kind, st in members:
            name = real.lstrip("/")
            if kind == "whiteout":
                head, _, base = name.rpartition("/")
                info = tarfile.TarInfo((head + "/" if head else "") + ".wh." + base)
                info.mode = 0o644
                tar.addfile(info)
                continue
            info = tarfile.TarInfo(name)
            info.mode, info.uid, info.gid, info.mtime = st
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                with open(files[real][0], "rb") as fh:
                    info.size = os.fstat(fh.fileno()).st_size
                    tar.addfile(info, fh)
    return {"tar": path, "size": os.path.getsize(path), "diffId": "sha256:" + digest.hexdigest(), "files": len(files)}


def uninstalled(info):
    """
    What pip's uninstall of the distribution at `info` removes: the files its RECORD lists, with
    the bytecode of its modules, and, where every file under a directory goes, the directory
    (pip's compress_for_rename).
    """
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
