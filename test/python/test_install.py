"""
Whole installs, run by the zipapp in a throwaway venv as the work container runs them: the layer
against what pip itself leaves, and each way back to pip with its reason.
"""

import csv
import hashlib
import io
import json
import os
import stat
import tarfile

import jsonschema
from helpers import make_wheel

GREET_1 = {
    "greet/__init__.py": "from greet.core import hello\n__version__ = '1.0.0'\n",
    "greet/core.py": "def hello():\n    return 'hello'\n",
    "greet/old.py": "GONE = True\n",
}
GREET_2 = {
    "greet/__init__.py": "from greet.core import hello\n__version__ = '2.0.0'\n",
    "greet/core.py": "def hello():\n    return 'hello, fixed'\n",
    "greet/new.py": "NEW = True\n",
}


def tree(root):
    """Every file under root, by path relative to it, with its content and mode (no bytecode of this run)."""
    found = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            found[os.path.relpath(p, root)] = (open(p, "rb").read(), stat.S_IMODE(os.lstat(p).st_mode))
    return found


def layer_of(answer):
    """The layer's tar, as the engine will read it: files (stat, content), whiteouts and directories (stat), by path in the image."""
    layer = answer["layer"]
    with open(layer["tar"], "rb") as fh:
        assert "sha256:" + hashlib.sha256(fh.read()).hexdigest() == layer["diffId"]
    assert os.path.getsize(layer["tar"]) == layer["size"]
    files, whiteouts, dirs = {}, set(), {}
    with tarfile.open(layer["tar"]) as tar:
        for m in tar.getmembers():
            head, _, base = ("/" + m.name).rpartition("/")
            if base.startswith(".wh."):
                whiteouts.add(head + "/" + base[4:])
            elif m.isdir():
                dirs["/" + m.name] = [m.mode, m.uid, m.gid, m.mtime]
            else:
                files["/" + m.name] = ([m.mode, m.uid, m.gid, m.mtime], tar.extractfile(m).read())
    assert layer["files"] == len(files)
    return files, whiteouts, dirs


def valid(answer, schema, kind):
    jsonschema.validate(answer, dict(schema, **{"$ref": "#/$defs/" + kind}))
    return answer


def test_an_upgrade_as_a_layer_leaves_what_pip_leaves(env, tmp_path, schema):
    old = make_wheel(str(tmp_path), "greet", "1.0.0", GREET_1)
    new = make_wheel(str(tmp_path), "greet", "2.0.0", GREET_2)
    env.pip(old)
    os.chown(env.site, 1234, 2345)  # owned by another user: what the layer adds is owned alike
    before = tree(env.site)

    code, answer, err = env.install(env.job([{"dir": str(tmp_path / "src"), "name": "greet", "wheel": new}]))
    assert code == 0, err
    valid(answer, schema, "Layered")
    assert list(answer) == ["layer", "installed", "learned"]  # "layer" first: nfhot reads the answer so
    assert answer["installed"] == [{"name": "greet", "version": "2.0.0", "source": 0}]
    assert tree(env.site) == before, "a layer answer leaves the environment untouched"
    assert not os.path.exists(env.work), "the job's root is removed"

    # What pip leaves when it upgrades greet: the layer must give the same, file by file.
    env.pip("--force-reinstall", "--no-deps", new)
    after = tree(env.site)
    site = env.site + os.sep
    in_tar, hidden, dirs = layer_of(answer)
    files = {p[len(site) :]: entry for p, entry in in_tar.items()}
    whiteouts = {p[len(site) :] for p in hidden}
    for path, (st, data) in files.items():
        if path.endswith(".pyc"):
            continue  # compiled at another moment: the same source, another time stamp
        if path.endswith("direct_url.json"):
            assert json.loads(data) == {"url": "file:///src", "dir_info": {}}
            continue
        if path.endswith("RECORD"):
            continue  # below, row by row
        assert data == after[path][0], path
        assert st[:3] == [after[path][1] | 0o444, 1234, 2345], path
    assert {p for p in after if before.get(p) != after[p]} <= set(files), "every file pip writes is in the layer"
    hides = lambda w, p: p == w or p.startswith(w + os.sep)
    for gone in set(before) - set(after):
        assert any(hides(w, gone) for w in whiteouts), "%s, which pip removes, is hidden" % gone
    for w in whiteouts:
        assert not any(hides(w, p) for p in after), "%s hides nothing pip keeps" % w
    assert "greet/old.py" in whiteouts and "greet-1.0.0.dist-info" in whiteouts
    assert "greet/core.py" not in whiteouts, "a file the new version also has is replaced, not hidden"
    # The RECORD lists every file, the bytecode pip compiles included, with hashes of what the layer has.
    record = [r for r in csv.reader(io.StringIO(files["greet-2.0.0.dist-info/RECORD"][1].decode())) if r]
    assert record == sorted(record)
    by_path = {r[0]: r for r in record}
    for path, (_, data) in files.items():
        if path.endswith("RECORD"):
            continue
        assert by_path[path][2] == str(len(data)), path
    assert any(p.startswith("greet/__pycache__/core.") and p.endswith(".pyc") for p in by_path)
    # Every directory above is in the layer, as it is.
    assert dirs[env.site][1:3] == [1234, 2345]


# A build backend that says what the process it runs in was given, then writes greet 2.0.0.
RECORDER = """
import json, os, sys
sys.path.insert(0, %r)
from helpers import make_wheel

def build_wheel(out, config_settings=None, metadata_directory=None):
    mask = os.umask(0)
    os.umask(mask)
    seen = {"tmp": os.environ.get("TMPDIR"), "umask": mask, "index": os.environ.get("PIP_INDEX_URL"),
            "bytecode": os.environ.get("PYTHONDONTWRITEBYTECODE")}
    with open(%r, "w") as fh:
        json.dump(seen, fh)
    return os.path.basename(make_wheel(out, "greet", "2.0.0", %r))
"""


def test_the_build_started_first_runs_as_the_install_readies_it(env, tmp_path, schema):
    src = tmp_path / "src"
    src.mkdir()
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["pip"]\nbuild-backend = "recorder"\nbackend-path = ["."]\n'
    )
    seen = tmp_path / "seen.json"
    (src / "recorder.py").write_text(RECORDER % (os.path.dirname(__file__), str(seen), GREET_2))
    os.makedirs(env.work)
    with open(os.path.join(env.work, "pip-env.json"), "w") as fh:
        json.dump({"PIP_INDEX_URL": "http://127.0.0.1:9/simple"}, fh)
    mask = os.umask(0o077)  # the install's own is 022 whatever it is given: files readable by the tasks' uid
    try:
        code, answer, err = env.install(env.job([{"dir": str(src), "name": "greet"}]))
    finally:
        os.umask(mask)
    assert code == 0, err
    assert valid(answer, schema, "Layered")["installed"] == [{"name": "greet", "version": "2.0.0", "source": 0}]
    assert json.loads(seen.read_text()) == {
        "tmp": os.path.join(env.work, "tmp"),
        "umask": 0o022,
        "index": "http://127.0.0.1:9/simple",
        "bytecode": "1",
    }


def test_a_new_install_learns_where_each_source_file_went(env, tmp_path, schema):
    src = tmp_path / "src"
    for path, text in GREET_2.items():
        (src / os.path.dirname(path)).mkdir(parents=True, exist_ok=True)
        (src / path).write_text(text)
    (src / "pyproject.toml").write_text('[project]\nname = "greet"\ndynamic = ["version"]\n')
    new = make_wheel(str(tmp_path), "greet", "2.0.0", GREET_2)
    code, answer, err = env.install(env.job([{"dir": str(src), "name": "greet", "wheel": new}], learn=True))
    assert code == 0, err
    learned = valid(answer, schema, "Layered")["learned"]
    core = learned["files"]["greet/core.py"][0]
    assert core["dest"] == os.path.join(env.site, "greet", "core.py")
    assert core["meta"] is False
    assert [p["entry"] for p in core["pyc"]] and all("__pycache__" in p["entry"] for p in core["pyc"])
    # Its __version__ is what a dynamic version is read from: a change to it needs the build.
    assert learned["files"]["greet/__init__.py"][0]["meta"] is True
    assert learned["record"]["entry"] == "greet-2.0.0.dist-info/RECORD"


def test_pip_installs_what_a_layer_cannot_do_as_pip_would_and_says_why(env, tmp_path, schema):
    pth = make_wheel(str(tmp_path), "greet", "2.0.0", dict(GREET_2, **{"greet.pth": "/elsewhere\n"}))
    code, answer, err = env.install(env.job([{"dir": str(tmp_path), "name": "greet", "wheel": pth}]))
    assert code == 0, err
    assert valid(answer, schema, "Installed")["pip"] == "its wheel has a .pth file (greet.pth)"
    assert answer["installed"] == [{"name": "greet", "version": "2.0.0", "source": 0}]
    assert os.path.exists(os.path.join(env.site, "greet", "new.py")), "pip installed it"
    assert "$ pip install" in err


def test_an_editable_install_is_replaced_by_pip(env, tmp_path, schema):
    env.pip(make_wheel(str(tmp_path), "greet", "1.0.0", GREET_1))
    direct = os.path.join(env.site, "greet-1.0.0.dist-info", "direct_url.json")
    with open(direct, "w") as fh:
        json.dump({"url": "file:///checkout", "dir_info": {"editable": True}}, fh)
    new = make_wheel(str(tmp_path), "greet", "2.0.0", GREET_2)
    code, answer, err = env.install(env.job([{"dir": str(tmp_path), "name": "greet", "wheel": new}]))
    assert code == 0, err
    assert valid(answer, schema, "Installed")["pip"] == "the installed greet is an editable install"


def test_pip_configured_to_install_elsewhere_is_left_to_pip(env, tmp_path):
    with open(os.path.join(env.path, "pip.conf"), "w") as fh:
        fh.write("[install]\nprefix = %s\n" % (tmp_path / "elsewhere"))
    new = make_wheel(str(tmp_path), "greet", "2.0.0", GREET_2)
    code, answer, err = env.install(env.job([{"dir": str(tmp_path), "name": "greet", "wheel": new}]))
    assert code == 0, err
    assert answer["pip"] == "pip is configured to install elsewhere (prefix = %s)" % (tmp_path / "elsewhere")


def test_what_the_environment_lacks_sends_pip_to_a_network(env, tmp_path, schema):
    new = make_wheel(str(tmp_path), "greet", "2.0.0", GREET_2, requires=["natsort>=8"])
    code, answer, err = env.install(env.job([{"dir": str(tmp_path), "name": "greet", "wheel": new}]))
    assert code == 76, err  # the interpreters after this one do not run
    assert valid(answer, schema, "NeedsNetwork") == {"network": "it requires natsort>=8, which the environment lacks"}
    assert not os.path.exists(os.path.join(env.site, "greet")), "nothing was installed"
    # With --no-deps, the same wheel needs nothing: a layer.
    code, answer, err = env.install(env.job([{"dir": str(tmp_path), "name": "greet", "wheel": new}], noDeps=True))
    assert code == 0 and "layer" in answer, err


def test_a_backend_no_interpreter_has_is_a_need(env, tmp_path, schema):
    src = tmp_path / "src"
    src.mkdir()
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["nfhot-absent-backend>=1"]\nbuild-backend = "nfhot_absent_backend"\n'
    )
    code, answer, err = env.install(env.job([{"dir": str(src), "name": "greet"}]))
    assert code == 75, err
    assert valid(answer, schema, "NeedsBackend") == {
        "needs": [{"source": 0, "missing": ["nfhot-absent-backend"], "backend": "nfhot_absent_backend"}],
        "searched": [env.python],
    }


def test_a_module_that_does_not_compile_fails_the_install(env, tmp_path):
    bad = make_wheel(str(tmp_path), "greet", "2.0.0", dict(GREET_2, **{"greet/bad.py": "def broken(:\n"}))
    code, answer, err = env.install(env.job([{"dir": str(tmp_path), "name": "greet", "wheel": bad}]))
    assert code == 1 and answer is None
    assert "nfhot: error: greet/bad.py:1: SyntaxError: " in err


def test_a_distribution_pip_cannot_uninstall_is_removed_first(env, tmp_path):
    # conda's way: a .dist-info without RECORD, its files listed in conda-meta.
    pkg = os.path.join(env.site, "greet")
    os.makedirs(pkg)
    for path, text in GREET_1.items():
        with open(os.path.join(env.site, path), "w") as fh:
            fh.write(text)
    info = os.path.join(env.site, "greet-1.0.0.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as fh:
        fh.write("Metadata-Version: 2.1\nName: greet\nVersion: 1.0.0\n")
    meta = os.path.join(env.path, "conda-meta")
    os.makedirs(meta)
    rel = os.path.relpath(env.site, env.path)
    with open(os.path.join(meta, "greet-1.0.0-py_0.json"), "w") as fh:
        json.dump({"files": [rel + "/" + p for p in GREET_1] + [rel + "/greet-1.0.0.dist-info/METADATA"]}, fh)
    new = make_wheel(str(tmp_path), "greet", "2.0.0", GREET_2)
    code, answer, err = env.install(env.job([{"dir": str(tmp_path), "name": "greet", "wheel": new}], layer=None))
    assert code == 0, err
    assert (
        "has no record of its files that pip can use (greet-1.0.0.dist-info): removing the 4 files conda-meta/greet-1.0.0-py_0.json lists"
        in err
    )
    assert not os.path.exists(os.path.join(pkg, "old.py"))
    assert not os.path.exists(info)
    assert answer["pip"] is None and answer["installed"][0]["version"] == "2.0.0"


def test_an_old_checkout_on_sys_path_is_taken_off_it(env, tmp_path):
    # A develop install: the checkout on sys.path by a .pth line, its metadata beside its code.
    checkout = tmp_path / "checkout"
    (checkout / "greet").mkdir(parents=True)
    (checkout / "greet" / "__init__.py").write_text("OLD = True\n")
    (checkout / "greet.egg-info").mkdir()
    (checkout / "greet.egg-info" / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: greet\nVersion: 1.0.0\n")
    (checkout / "greet.egg-info" / "top_level.txt").write_text("greet\n")
    with open(os.path.join(env.site, "develop.pth"), "w") as fh:
        fh.write("%s\n" % checkout)
    new = make_wheel(str(tmp_path), "greet", "2.0.0", GREET_2)
    code, answer, err = env.install(env.job([{"dir": str(tmp_path), "name": "greet", "wheel": new}], layer=None))
    assert code == 0, err
    stale = checkout / "greet.egg-info"
    assert "greet is listed a second time by %s; taking %s off sys.path" % (stale, checkout) in err
    assert not os.path.exists(os.path.join(env.site, "develop.pth")), "its only line went: the file goes"


def test_pythonpath_that_shadows_the_patch_fails_it(env, tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "greet").mkdir(parents=True)
    (checkout / "greet" / "__init__.py").write_text("OLD = True\n")
    new = make_wheel(str(tmp_path), "greet", "2.0.0", GREET_2)
    job = env.job([{"dir": str(tmp_path), "name": "greet", "wheel": new}], layer=None)
    os.makedirs(env.work, exist_ok=True)
    with open(os.path.join(env.work, "pip-env.json"), "w") as fh:
        json.dump({"PYTHONPATH": str(checkout)}, fh)  # the install's environment, as the image's would be
    code, answer, err = env.install(job)
    assert code == 1, err
    assert "nfhot: error: after the install, `import greet` finds %s" % (checkout / "greet" / "__init__.py") in err
