"""
pip: run in a process of its own for the installs it does, its installer called in this one for
a layer, and the wheels' metadata read as pip would.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys

from nfhot_install.build import installed_version
from nfhot_install.job import InstallError
from nfhot_install.util import metadata, say

# pip runs in a process of its own. Not even asked for through the import system here: setuptools'
# distutils hook, told pip is being imported, hands a later build the stdlib's distutils.
import importlib.machinery  # noqa: E402

BASE = ["install", "--no-cache-dir", "--disable-pip-version-check", "--no-input"]


class Pip:
    """The interpreter's pip, or one run from a wheel (a zip Python imports from: nothing of it stays)."""

    def __init__(self, root, wheel):
        self.root, self.wheel, self.reports = root, None, []
        if importlib.machinery.PathFinder.find_spec("pip") is None:
            if not wheel:
                raise InstallError("pip is not installed for %s, and no pip wheel was given" % sys.executable)
            self.wheel = wheel
            sys.path.insert(0, wheel)
        # pip's --report, from 22.2: which distribution came from which source.
        self.has_report = (installed_version("pip") or (0, 0)) >= (22, 2)

    def run(self, cmd):
        """`python -m pip ...` (a backend imported here must not change how pip works), its stdout sent to stderr."""
        env = dict(os.environ)
        if self.wheel:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [self.wheel, env.get("PYTHONPATH")]))
        return subprocess.run([sys.executable, "-m", "pip"] + cmd, stdout=sys.stderr.fileno(), env=env).returncode

    def install(self, args, targets):
        """One pip install, its report kept; pip's failure is the install's, with its exit code."""
        cmd = BASE + args
        if self.has_report:
            self.reports.append(os.path.join(self.root, "report-%d.json" % len(self.reports)))
            cmd += ["--report", self.reports[-1]]
        sys.stderr.write("$ %s\n" % " ".join(["pip"] + cmd + targets))
        sys.stderr.flush()
        rc = self.run(cmd + targets)
        if rc != 0:
            raise InstallError(None, rc)  # pip has said why

    def installed(self, paths):
        """What pip installed ({name, version, source}), the source found by the path each came from ({path: id})."""
        result = []
        if self.has_report:
            for report in self.reports:
                with open(report) as fh:
                    items = json.load(fh).get("install", [])
                for item in items:
                    meta = item.get("metadata", {})
                    path = file_path((item.get("download_info") or {}).get("url"))
                    result.append({"name": meta.get("name"), "version": meta.get("version"), "source": paths.get(path)})
            return result
        # Without a report: the direct_url.json pip wrote.
        for dist in metadata.distributions():
            raw = dist.read_text("direct_url.json")
            path = file_path(json.loads(raw).get("url")) if raw else None
            if path in paths:
                result.append({"name": dist.metadata["Name"], "version": dist.version, "source": paths[path]})
        return result


def file_path(url):
    """The local path a file: URL names, as pip writes it (percent-encoded: `+` of a local version is %2B)."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url or "")
    return os.path.normpath(unquote(parts.path)) if parts.scheme == "file" and parts.path else None


def installer():
    """pip's own installer and what it needs (its imports take a while: done while the wheel builds), or why it cannot be had."""
    import warnings

    try:
        with warnings.catch_warnings():
            # setuptools, imported by a build, warns when pip's imports ask for distutils
            warnings.simplefilter("ignore")
            from pip._internal.configuration import Configuration
            from pip._internal.locations import get_scheme
            from pip._internal.models.direct_url import DirectUrl
            from pip._internal.models.scheme import Scheme
            from pip._internal.operations.install.wheel import install_wheel
        return Configuration, get_scheme, DirectUrl, Scheme, install_wheel
    except Exception as e:
        return "this pip's installer cannot be called on its own (%s: %s)" % (type(e).__name__, e)


def wheel_info(wheel):
    """A wheel's .dist-info directory, its METADATA (parsed), and whether its root is purelib."""
    import email.parser
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        info = next(n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")).split("/")[0]
        meta = email.parser.Parser().parsestr(z.read(info + "/METADATA").decode("utf-8"))
        tags = email.parser.Parser().parsestr(z.read(info + "/WHEEL").decode("utf-8"))
    return names, info, meta, tags.get("Root-Is-Purelib", "").strip().lower() == "true"


def requirements_of(wheel):
    """The wheel's Requires-Dist."""
    return wheel_info(wheel)[2].get_all("Requires-Dist") or []


def unmet_requirements(wheel):
    """What of the wheel's Requires-Dist this environment does not meet; None when that cannot be told."""
    try:
        requires = requirements_of(wheel)
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
        with open(rpath, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
        rel = str(direct[0]).replace(os.sep, "/")
        lines = [record_line(rel, data) if l.split(",", 1)[0] == rel else l for l in lines]
        with open(rpath, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


def install_unmet(pip, built, no_deps):
    """What the new wheels require that the environment lacks; the rest is left as it is."""
    if not built or no_deps:
        return
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
        pip.install([], sorted(set(unmet)))
