# Builds a Python source's wheel in this process with the PEP 517 backend of the interpreter that
# runs it, and hands the build the version git gives the source when its backend takes it from
# git (setuptools_scm and the backends built on it, pdm-backend): the source was exported without
# .git, so the facts were read where the repository is, and the version is formatted here, with
# the scheme the project configures and the conventions of the tool's version installed here.
# The install runs it in the work container (in its own process, or under another interpreter of
# the image); nfhot runs it on the host. As a program (the zipapp's `build`):
#   python nfhot.pyz build SRC OUT [VERSION-FACTS-JSON]
# prints one JSON line: {"wheel": path} | {"missing": [requirements], "backend": name} |
# {"failed": reason}; exit 0, 3 (this interpreter lacks the backend) or 1.
import importlib
import json
import os
import re
import sys
import tempfile

from nfhot_install.util import canonical, metadata


def installed_version(name):
    """The installed distribution's version, (major, minor); None when it is not installed (or cannot be told)."""
    if metadata is None:
        return None
    try:
        return tuple(int(x) for x in re.findall(r"\d+", metadata.version(name))[:2])
    except Exception:
        return None


def load_toml(text):
    for module in ("tomllib", "tomli", "pip._vendor.tomli"):
        try:
            return importlib.import_module(module).loads(text)
        except ImportError:
            continue
        except Exception:
            return None
    return None


def read(src, name):
    try:
        return open(os.path.join(src, name), encoding="utf-8").read()
    except OSError:
        return None


def pyproject(src):
    text = read(src, "pyproject.toml")
    return (load_toml(text) if text else None) or {}


def build_system(src):
    """A source's [build-system] table (PEP 517/518); a legacy project's is setuptools'."""
    table = pyproject(src).get("build-system", {})
    text = read(src, "pyproject.toml") or ""
    if not table and "[build-system]" in text:  # no TOML parser here (Python < 3.11 without tomli)
        m = re.search(r"^\[build-system\][ \t]*$(.*?)(?=^\[|\Z)", text, re.S | re.M)
        body = m.group(1) if m else ""
        for key in ("requires", "backend-path"):
            found = re.search(r"^\s*%s\s*=\s*\[(.*?)\]" % key, body, re.S | re.M)
            if found:
                table[key] = re.findall(r"['\"]([^'\"]+)['\"]", found.group(1))
        found = re.search(r"^\s*build-backend\s*=\s*['\"]([^'\"]+)['\"]", body, re.M)
        if found:
            table["build-backend"] = found.group(1)
    return {
        "requires": table.get("requires") or ["setuptools"],
        "build-backend": table.get("build-backend") or "setuptools.build_meta:__legacy__",
        "backend-path": table.get("backend-path") or [],
    }


def build_requirements(src):
    """The distributions the build needs."""
    names = [m.group(0) for m in (re.match(r"[A-Za-z0-9._-]+", r.strip()) for r in build_system(src)["requires"]) if m]
    # setuptools before 70.1 builds wheels with the separate wheel package.
    if "setuptools" in names and (installed_version("setuptools") or (0, 0)) < (70, 1):
        names.append("wheel")
    return list(dict.fromkeys(names))


def missing_requirements(src):
    return [n for n in build_requirements(src) if installed_version(n) is None]


# --- the version git gives the source --------------------------------------------------------

DEFAULT_TAG_REGEX = r"^(?:[\w-]+-)?(?P<version>[vV]?\d+(?:\.\d+){0,2}[^\+]*)(?:\+.*)?$"
PDM_TAG_REGEX = r"^(?:\D*)?(?P<version>([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*((a|b|c|rc)(0|[1-9][0-9]*))?(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?$)$"


def normalize(version):
    for module in ("packaging.version", "pip._vendor.packaging.version", "setuptools.extern.packaging.version"):
        try:
            return str(importlib.import_module(module).Version(version))
        except ImportError:
            continue
        except Exception:
            break
    return re.sub(r"^[vV]", "", version)


def tag_version(tag, regex):
    m = re.match(regex, tag)
    if not m:
        return None
    found = m.group("version") if "version" in m.groupdict() else m.group(1)
    return normalize(found.split("+", 1)[0])


def bump_dev(version):
    if ".dev" not in version:
        return None
    prefix, tail = version.rsplit(".dev", 1)
    if tail != "0":
        raise ValueError("choosing custom numbers for the `.devX` distance is not supported (tag %s)" % version)
    return prefix


def bump_regex(version):
    m = re.match(r"(.*?)(\d+)$", version)
    if not m:
        raise ValueError("cannot guess the next version of %s" % version)
    return "%s%d" % (m.group(1), int(m.group(2)) + 1)


def guess_next(version):
    return bump_dev(version) or bump_regex(version)


def release(version, parts=3):
    nums = [int(x) for x in re.match(r"(\d+(?:\.\d+)*)", version).group(1).split(".")]
    return (nums + [0] * parts)[:parts]


def scm_schemes(v):
    """setuptools_scm's version schemes (its own words, as 6.x to 10.x define them)."""
    tag, distance, exact = v["tag"], v["distance"], v["exact"]
    dev = ".dev%d" % distance

    def semver(minor_on_feature):
        major, minor, patch = release(tag)
        if exact:
            return "%d.%d.%d" % (major, minor, patch)
        if minor_on_feature and "feature" in (v["branch"] or ""):
            return "%d.%d.0%s" % (major, minor + 1, dev)
        return "%d.%d.%d%s" % (major, minor, patch + 1, dev)

    def release_branch():
        if exact:
            return tag
        branch = (v["branch"] or "").split("/")[-1]
        on = tag_version(branch, v["tag_regex"]) if branch else None
        if on and release(on, 2) == release(tag, 2):
            return guess_next(tag) + dev
        major, minor = release(tag, 2)
        return "%d.%d.0%s" % (major, minor + 1, dev)

    return {
        "guess-next-dev": lambda: tag if exact else guess_next(tag) + dev,
        "no-guess-dev": lambda: tag if exact else (bump_dev(tag) or tag + ".post1") + dev,
        "post-release": lambda: tag if exact else "%s.post%d" % (tag, distance),
        "only-version": lambda: tag,
        "python-simplified-semver": lambda: semver(True),
        "semver-pep440": lambda: semver(True),
        "release-branch-semver": release_branch,
        "semver-pep440-release-branch": release_branch,
    }


def local_part(v, scheme):
    import datetime

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = (
        datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
        if epoch and scheme != "pdm"
        else datetime.datetime.now(datetime.timezone.utc)
    )
    dated = lambda fmt: (
        ("+%s.d%s" % (v["node"], now.strftime(fmt))) if v["node"] and not v["exact"] else "+d" + now.strftime(fmt)
    )
    plain = ("+" + v["node"]) if v["node"] and not v["exact"] else ""
    table = {
        "node-and-date": lambda: dated("%Y%m%d") if v["dirty"] else plain,
        "node-and-timestamp": lambda: dated("%Y%m%d%H%M%S") if v["dirty"] else plain,
        "dirty-tag": lambda: "+dirty" if v["dirty"] else "",
        "no-local-version": lambda: "",
        "pdm": lambda: dated("%Y%m%d") if v["dirty"] else plain,
    }
    return table[scheme]() if scheme in table else None


def scm_config(src, tool):
    """The tool's settings that shape the version: scheme, local scheme, tag regex, fallback."""
    data = pyproject(src).get("tool", {})
    if tool == "pdm":
        own = data.get("pdm", {}).get("version", {})
        return {
            "version_scheme": "pdm" if not own.get("version_format") else own["version_format"],
            "local_scheme": "pdm",
            "tag_regex": own.get("tag_regex") or PDM_TAG_REGEX,
            "fallback_version": own.get("fallback_version"),
        }
    if tool == "hatch-vcs":
        own = data.get("hatch", {}).get("version", {})
        raw = dict(own.get("raw-options", {}))
        if own.get("tag-pattern"):
            raw["tag_regex"] = own["tag-pattern"]
        if own.get("fallback-version"):
            raw["fallback_version"] = own["fallback-version"]
    else:
        raw = dict(data.get("setuptools_scm", {}))
        setup_py = read(src, "setup.py") or ""
        for key in (
            "version_scheme",
            "local_scheme",
            "tag_regex",
            "fallback_version",
        ):  # use_scm_version={...} in setup.py
            m = re.search(r"['\"]%s['\"]\s*:\s*r?['\"]([^'\"]+)['\"]" % key, setup_py)
            if m and key not in raw:
                raw[key] = m.group(1)
    return {
        "version_scheme": raw.get("version_scheme", "guess-next-dev"),
        "local_scheme": raw.get("local_scheme", "node-and-date"),
        "tag_regex": raw.get("tag_regex") or DEFAULT_TAG_REGEX,
        "fallback_version": raw.get("fallback_version"),
    }


def scm_version(src, facts):
    """
    The version the tool gives a checkout with these facts (tag, distance, commit, dirty, branch),
    and how it was made; raises ValueError when the project's scheme is one nfhot cannot compute.
    """
    tool = facts["tool"]
    if facts.get("version"):  # an earlier patch's, installed again
        return facts["version"], "as patched before"
    config = scm_config(src, tool)
    # Its conventions changed with its version (the node's length in 9.0): without it here, the newest's (what an isolated build fetches).
    major = (installed_version("setuptools_scm") or installed_version("setuptools-scm") or (99, 0))[0]
    tag = facts.get("tag")
    version = tag_version(tag, config["tag_regex"]) if tag else None
    if tag and version is None:
        raise ValueError("tag %s is not a version by the project's tag regex %s" % (tag, config["tag_regex"]))
    distance = facts["distance"]
    if version is None:  # no tag: setuptools_scm counts from 0.0 (9.x: from fallback_version)
        version = (config["fallback_version"] if major >= 9 and tool != "pdm" else None) or "0.0"
    if tool == "pdm":
        node = "g" + facts["short"]
    elif major >= 9:
        node = "g" + facts["commit"][:9]
    else:
        node = "g" + (facts["short"] if tag else facts["commit"][:7])
    v = {
        "tag": version,
        "distance": distance,
        "dirty": facts["dirty"],
        "branch": facts.get("branch"),
        "node": node,
        "tag_regex": config["tag_regex"],
    }
    v["exact"] = distance == 0 and not (facts["dirty"] and tool != "pdm")
    if tool == "pdm":
        if config["version_scheme"] != "pdm":
            raise ValueError("pdm-backend's version_format %s is the project's own code" % config["version_scheme"])
        public = version if v["exact"] else guess_next(version) + ".dev%d" % distance
    else:
        scheme = scm_schemes(v).get(config["version_scheme"])
        if scheme is None:
            raise ValueError(
                "setuptools_scm's version scheme %s is one nfhot does not compute" % config["version_scheme"]
            )
        public = scheme()
    local = local_part(v, config["local_scheme"])
    if local is None:
        raise ValueError("setuptools_scm's local scheme %s is one nfhot does not compute" % config["local_scheme"])
    where = (
        ("%d commit%s past %s" % (distance, "" if distance == 1 else "s", tag))
        if tag
        else "%d commits, no tag" % distance
    )
    name = {"pdm": "pdm-backend", "hatch-vcs": "hatch-vcs (setuptools_scm)"}.get(tool, "setuptools_scm")
    how = "%s, %s%s; %s's %s" % (
        where,
        facts["commit"][:12],
        ", uncommitted changes" if facts["dirty"] else "",
        name,
        config["version_scheme"] if tool == "pdm" else "%s + %s" % (config["version_scheme"], config["local_scheme"]),
    )
    return public + local, how


def hand_version(src, facts, name, only=True):
    """
    Gives the build the version: as the sdist of that commit would (PKG-INFO, which
    setuptools_scm, hatchling and flit_scm read when there is no .git), and in the variables the
    tools read first. `only`: this process builds this source alone (the tools' generic variables
    would reach every other build).
    """
    version, how = scm_version(src, facts)
    path = os.path.join(src, "PKG-INFO")
    if not os.path.exists(path):
        open(path, "w", encoding="utf-8").write(
            "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name or "UNKNOWN", version)
        )
    for spelling in {name.upper(), canonical(name).replace("-", "_").upper()} if name else ():
        os.environ["SETUPTOOLS_SCM_PRETEND_VERSION_FOR_" + spelling] = version
    if only:
        os.environ["SETUPTOOLS_SCM_PRETEND_VERSION"] = version
        if facts["tool"] == "pdm":
            os.environ["PDM_BUILD_SCM_VERSION"] = version
    return version, how


# --- the build -----------------------------------------------------------------------------------


def build_wheel(src, out):
    """
    Builds the wheel with the backend this interpreter has (PEP 517's build_wheel) in this
    process; the backend's own output is kept out of the way (pip's, when it then builds, says
    what is wrong). Returns (path, None), or (None, the failure in one line).
    """
    system = build_system(src)
    saved_cwd, saved_path, saved_fds = os.getcwd(), list(sys.path), (os.dup(1), os.dup(2))
    sys.stdout.flush()
    sys.stderr.flush()
    log = tempfile.TemporaryFile()
    for fd in (1, 2):
        os.dup2(log.fileno(), fd)
    try:
        os.makedirs(out, exist_ok=True)
        os.chdir(src)
        sys.path[:0] = [os.path.join(src, p) for p in system["backend-path"]]
        module, _, attrs = system["build-backend"].partition(":")
        backend = importlib.import_module(module)
        for attr in filter(None, attrs.split(".")):
            backend = getattr(backend, attr)
        return os.path.join(out, backend.build_wheel(out)), None
    except (Exception, SystemExit) as e:
        return None, "%s: %s" % (type(e).__name__, (str(e).strip().split("\n") or [""])[0][:200])
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, saved in zip((1, 2), saved_fds):
            os.dup2(saved, fd)
            os.close(saved)
        os.chdir(saved_cwd)
        sys.path[:] = saved_path


def pure(wheel):
    """A wheel any Python 3 takes (py3-none-any): the same whoever built it."""
    tags = os.path.basename(wheel)[:-4].split("-")[-3:]
    return (
        tags[1] == "none"
        and tags[2] == "any"
        and all(t.startswith("py3") or t.startswith("py2.py3") for t in tags[0].split("."))
    )


def main(args):
    """`build SRC OUT [FACTS]`: the answer, printed, and the exit code."""
    src, out = args[0], args[1]
    facts = json.loads(args[2]) if len(args) > 2 and args[2] else None
    result, code = {}, 0
    missing = missing_requirements(src)
    if missing:
        result, code = {"missing": missing, "backend": build_system(src)["build-backend"]}, 3
    else:
        try:
            if facts:
                result["version"], result["how"] = hand_version(src, facts, facts.get("name"))
            wheel, failure = build_wheel(src, out)
            result.update({"wheel": wheel} if wheel else {"failed": failure})
            code = 0 if wheel else 1
        except ValueError as e:
            result, code = {"failed": str(e)}, 1
    print(json.dumps(result))
    return code
