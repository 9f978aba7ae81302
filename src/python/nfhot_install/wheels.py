"""
Each source's wheel: given (built on nfhot's machine), built here (in this process, or in a
process of its own while pip's installer is readied), or built by another interpreter of the
image that has the source's backend. What none can build is a need nfhot answers, or pip builds.
"""

import os
import subprocess
import sys
import sysconfig

from nfhot_install import build, pip
from nfhot_install.bytecode import Early
from nfhot_install.entry import build_command
from nfhot_install.environment import View
from nfhot_install.util import canonical, last_json_line, say


class Built:
    """The wheels ({source's index: path}), the needs (sources no interpreter here can build), and
    what was readied while a wheel built: pip's installer, a View of the names it will install,
    the source's modules compiled (bytecode.Early)."""

    def __init__(self):
        self.wheels, self.needs, self.installer, self.view, self.early = {}, [], None, None, None


def say_version(source, version, how):
    say("%s: version %s from git (%s)" % (source.label, version, how))


def hand_version(source, only):
    """Hands the build of `source` the version git gives it, and says which (an interpreter that builds it elsewhere does this itself)."""
    if not source.version:
        return
    try:
        version, how = build.hand_version(source.dir, source.version, source.name, only=only)
        say_version(source, version, how)
    except ValueError as e:
        say("%s: the version git gives it cannot be computed here (%s); the build gets none" % (source.label, e))


def source_tops(src):
    """The top-level modules and packages of a source's tree where a build likely takes them from: [(directory, name, path)]."""
    found = []
    for base in (src, os.path.join(src, "src"), os.path.join(src, "lib"), os.path.join(src, "python")):
        for n in sorted(os.listdir(base)) if os.path.isdir(base) else ():
            path = os.path.join(base, n)
            if n.endswith(".py") and os.path.isfile(path):
                found.append((base, n[:-3], path))
            elif os.path.isfile(os.path.join(path, "__init__.py")):
                found.append((base, n, path))
    return found


def guess_names(src, name):
    """The distribution and top-level names a source's wheel is likely to install (to look for them while it builds)."""
    return {canonical(name): sorted({n for _, n, _ in source_tops(src)})} if name else {}


def source_modules(src):
    """The modules of a source's top-level packages and modules, and where each likely goes under site-packages: [(path, relative path)]."""
    for base, _, path in source_tops(src):
        if os.path.isfile(path):
            yield path, os.path.relpath(path, base)
            continue
        for d, dirs, files in os.walk(path):
            dirs[:] = sorted(x for x in dirs if x != "__pycache__")
            for f in sorted(files):
                if f.endswith(".py"):
                    yield os.path.join(d, f), os.path.relpath(os.path.join(d, f), base)


def usable(wheel):
    """A wheel built by another interpreter: pure, or for this one's Python."""
    tags = os.path.basename(wheel)[:-4].split("-")[-3:]
    return build.pure(wheel) or tags[0] == "cp%d%d" % sys.version_info[:2]


def build_alongside(source, building, built):
    """
    The one source's wheel, its build started (entry.start_build) while this process readies
    pip's installer and looks at what the wheel will replace: the layer needs both. Returns what
    of the build's backend this interpreter lacks (the build said so at once), or [].
    """
    guessed = guess_names(source.dir, source.name)
    built.view = View(guessed) if guessed else None
    early = None
    if Early.possible():
        # The modules the wheel will likely install, compiled meanwhile for where this interpreter
        # installs pure modules (pip's scheme is that in all but odd set-ups, whose modules are
        # then compiled after staging).
        early = Early.forked(source_modules(source.dir), os.path.normpath(sysconfig.get_paths()["purelib"]))
    built.installer = pip.installer()
    answer = last_json_line(building.communicate()[0].decode())
    built.early = early() if early else None
    if answer is None:
        answer = {"failed": "the build exited with %d" % building.returncode}
    if answer.get("missing"):
        return answer["missing"]
    if answer.get("version"):
        say_version(source, answer["version"], answer["how"])
    if answer.get("wheel"):
        built.wheels[0] = answer["wheel"]
        say("built %s with %s" % (os.path.basename(answer["wheel"]), build.build_system(source.dir)["build-backend"]))
    else:
        say("the wheel did not build (%s): pip builds the source" % str(answer.get("failed") or answer).split(":")[0])
    return []


def build_here(job, i, source, built):
    """The one source's wheel, built in this process; else pip builds the source (and says why it fails, once)."""
    wheel, failure = build.build_wheel(source.dir, os.path.join(job.root, "wheels", str(i)))
    if wheel:
        built.wheels[i] = wheel
        say(
            "built %s with %s in this process"
            % (os.path.basename(wheel), build.build_system(source.dir)["build-backend"])
        )
    else:
        say("the wheel did not build in this process (%s): pip builds the source" % failure.split(":")[0])


def build_elsewhere(job, i, source, missing):
    """
    The wheel built by another interpreter of the image that has the source's backend, and which;
    else None, and `missing` narrowed to what none of them has.
    """
    for python in job.builders:
        out = os.path.join(job.root, "wheels", str(i))
        done = subprocess.run(
            build_command(python, source.dir, out, source.facts()),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd="/",
        )
        answer = last_json_line(done.stdout.decode())
        if answer is None:
            continue
        if answer.get("wheel") and usable(answer["wheel"]):
            if answer.get("version"):
                say_version(source, answer["version"], answer["how"])
            return answer["wheel"], python
        if answer.get("missing") is not None:
            missing[:] = [m for m in missing if m in answer["missing"]]
        if answer.get("failed"):
            say(
                "%s has the backend but could not build %s: %s"
                % (python, os.path.basename(source.dir), answer["failed"])
            )
    return None


def build_wheels(job, building=None):
    """Each source's wheel, where it can be had (see the module). `building`: the one source's build, started (entry.start_build)."""
    built, alone = Built(), len(job.sources) == 1
    for i, source in enumerate(job.sources):
        if source.wheel:
            built.wheels[i] = source.wheel
            continue
        if building is not None:
            missing = build_alongside(source, building, built)
        else:
            missing = build.missing_requirements(source.dir)
            if not missing:
                hand_version(source, only=alone)
                if alone:
                    build_here(job, i, source, built)
        if missing:
            lacking = list(missing)
            elsewhere = build_elsewhere(job, i, source, lacking)
            if elsewhere:
                built.wheels[i] = elsewhere[0]
                say(
                    "built %s with %s (this environment lacks %s)"
                    % (os.path.basename(elsewhere[0]), elsewhere[1], ", ".join(missing))
                )
            else:
                backend = build.build_system(source.dir)["build-backend"]
                built.needs.append({"source": source.id, "missing": lacking, "backend": backend})
    return built
