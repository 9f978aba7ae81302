# Installs exported sources with pip inside the work container, then leaves only pip's
# own changes behind. argv[1]: JSON {"root": dir, "sources": [{"dir", "directUrl"}], "noDeps": bool}.
# pip's output goes to stderr; the one JSON result line goes to stdout.
import base64, hashlib, json, os, re, shutil, sys

sys.dont_write_bytecode = True
os.umask(0o022)  # tasks run as the caller's uid: everything installed must be world-readable
job = json.loads(sys.argv[1])
sources = job["sources"]

try:
    from importlib import metadata
except ImportError:
    import importlib_metadata as metadata


def installed_version(name):
    try:
        return tuple(int(x) for x in re.findall(r"\d+", metadata.version(name))[:2])
    except Exception:
        return None


def build_requirements(src):
    """The build-system requirements of a source, or setuptools for a legacy project."""
    path = os.path.join(src, "pyproject.toml")
    requires = None
    if os.path.exists(path):
        text = open(path, encoding="utf-8").read()
        try:
            import tomllib
            requires = tomllib.loads(text).get("build-system", {}).get("requires")
        except Exception:
            m = re.search(r"^\[build-system\][^\[]*?requires\s*=\s*\[(.*?)\]", text, re.S | re.M)
            requires = re.findall(r"['\"]([^'\"]+)['\"]", m.group(1)) if m else None
    names = [m.group(0) for m in (re.match(r"[A-Za-z0-9._-]+", r.strip()) for r in requires or ["setuptools"]) if m]
    # setuptools before 70.1 builds wheels with the separate wheel package.
    if "setuptools" in names and (installed_version("setuptools") or (0, 0)) < (70, 1):
        names.append("wheel")
    return names


def cleanup():
    shutil.rmtree(job["root"], ignore_errors=True)


# Offline images can build only with the backend they already have; use it when it is there.
no_isolation = all(installed_version(r) is not None for s in sources for r in build_requirements(s["dir"]))
version = installed_version("pip") or (0, 0)
cmd = [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--no-input"]
if no_isolation:
    cmd.append("--no-build-isolation")
if job["noDeps"]:
    cmd.append("--no-deps")
report = os.path.join(job["root"], "report.json")
if version >= (22, 2):
    cmd += ["--report", report]
cmd += [s["dir"] for s in sources]
sys.stderr.write("$ %s\n" % " ".join(["pip"] + cmd[3:]))
sys.stderr.flush()
# PIP_USER=0: into the environment or fail; never into root's ~/.local, which the tasks' uid cannot see.
os.environ.update(PIP_BREAK_SYSTEM_PACKAGES="1", PIP_ROOT_USER_ACTION="ignore", PIP_USER="0", PYTHONDONTWRITEBYTECODE="1")


def run_pip():
    """`python -m pip ...` in this process (one interpreter start less), its stdout sent to stderr."""
    import runpy
    saved_argv, saved_stdout = sys.argv, os.dup(1)
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.argv = ["pip"] + cmd[3:]
    try:
        runpy.run_module("pip", run_name="__main__", alter_sys=True)
        return 0
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.stdout.flush()
        os.dup2(saved_stdout, 1)
        sys.argv = saved_argv


rc = run_pip()
if rc != 0:
    cleanup()
    sys.exit(rc)

# Which distribution came from which source: pip's report, else the direct_url.json pip wrote.
urls = {"file://" + s["dir"]: i for i, s in enumerate(sources)}
result = []
if os.path.exists(report):
    for item in json.load(open(report)).get("install", []):
        meta = item.get("metadata", {})
        url = (item.get("download_info") or {}).get("url", "").rstrip("/")
        result.append({"name": meta.get("name"), "version": meta.get("version"), "source": urls.get(url)})
else:
    for dist in metadata.distributions():
        raw = dist.read_text("direct_url.json")
        url = json.loads(raw).get("url", "").rstrip("/") if raw else ""
        if url in urls:
            result.append({"name": dist.metadata["Name"], "version": dist.version, "source": urls[url]})


def record_line(relpath, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (relpath, digest, len(data))


for entry in result:
    try:
        dist = metadata.distribution(entry["name"])
    except Exception:
        continue
    files = dist.files or []
    # pip recorded the temporary export; record the real provenance instead (PEP 610), without credentials.
    if entry["source"] is not None:
        direct = [f for f in files if f.name == "direct_url.json" and f.parent.name.endswith(".dist-info")]
        if direct:
            path = direct[0].locate()
            data = json.dumps(sources[entry["source"]]["directUrl"], sort_keys=True).encode()
            with open(path, "wb") as fh:
                fh.write(data)
            records = [f for f in files if f.name == "RECORD" and f.parent == direct[0].parent]
            if records:
                rpath = records[0].locate()
                lines = open(rpath, encoding="utf-8").read().splitlines()
                rel = str(direct[0]).replace(os.sep, "/")
                lines = [record_line(rel, data) if l.split(",", 1)[0] == rel else l for l in lines]
                open(rpath, "w", encoding="utf-8").write("\n".join(lines) + "\n")
    for f in files:
        p = f.locate()
        try:
            mode = os.stat(p).st_mode
            os.chmod(p, mode | 0o444 | (0o111 if mode & 0o100 else 0))
        except OSError:
            pass

cleanup()
print(json.dumps({"installed": result, "buildIsolation": not no_isolation}))
