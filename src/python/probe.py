# Describes the Python environment it runs in, as one JSON line; argv: path-as-found,
# distribution name, how it was found (PATH, list, search, given).
import glob
import json
import os
import sys
import sysconfig

out = {
    "path": sys.argv[1],
    "how": sys.argv[3] if len(sys.argv) > 3 else "list",
    "executable": sys.executable,
    "prefix": sys.prefix,
    "version": "%d.%d.%d" % tuple(sys.version_info[:3]),
    "venv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
    "pip": None,
    "pipWheel": None,
    "externallyManaged": False,
    "dist": None,
    "tmp": False,
}
# An empty /tmp: the work container can mount it in memory, hiding nothing of the image's and
# adding no directory to a commit.
try:
    out["tmp"] = os.path.isdir("/tmp") and not os.path.islink("/tmp") and not os.listdir("/tmp")
except OSError:
    pass
try:
    import pip

    out["pip"] = pip.__version__
except Exception:
    # No pip: a pip wheel in the image runs as pip (conda-forge's Python bundles one for
    # ensurepip; Debian's python3-pip-whl puts one in /usr/share/python-wheels).
    try:
        import importlib.util

        spec = importlib.util.find_spec("ensurepip")
        bundled = os.path.join(os.path.dirname(spec.origin), "_bundled") if spec and spec.origin else ""
        wheels = glob.glob(os.path.join(bundled, "pip-*.whl")) + glob.glob("/usr/share/python-wheels/pip-*.whl")
        if wheels:
            out["pipWheel"] = wheels[0]
    except Exception:
        pass
if not out["venv"]:
    stdlib = sysconfig.get_path("stdlib") or ""
    out["externallyManaged"] = os.path.exists(os.path.join(stdlib, "EXTERNALLY-MANAGED"))
name = sys.argv[2] if len(sys.argv) > 2 else ""
if name:
    try:
        try:
            from importlib import metadata
        except ImportError:
            import importlib_metadata as metadata
        found = None
        for candidate in (name, name.replace("-", "_"), name.replace("_", "-"), name.replace("-", ".")):
            try:
                found = metadata.distribution(candidate)
                break
            except metadata.PackageNotFoundError:
                continue
        if found is not None:
            md = found.metadata
            urls = [u.split(",", 1) for u in (md.get_all("Project-URL") or [])]
            project_urls = [[k.strip(), v.strip()] for k, v in (u for u in urls if len(u) == 2)]
            if md.get("Home-page"):
                project_urls.append(["Home-page", md.get("Home-page")])
            direct_url = found.read_text("direct_url.json")
            out["dist"] = {
                "name": md.get("Name") or name,
                "version": found.version,
                "directUrl": json.loads(direct_url) if direct_url else None,
                "projectUrls": project_urls,
            }
    except Exception as e:  # an odd environment must not hide the others
        out["distError"] = str(e)
print(json.dumps(out))
