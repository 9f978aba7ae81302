"""The install's parts, each on its own: what pip's uninstall removes, the bytecode and RECORD rows, whiteouts, what a sync learns."""

import csv
import hashlib
import importlib.util
import os

import pytest
from helpers import record_hash
from nfhot_install.environment import conda_files, top_level
from nfhot_install.bytecode import Early, compile_one, compile_staged
from nfhot_install.layer import hidden, uninstalled
from nfhot_install.learn import Metadata, source_of
from nfhot_install.wheels import source_modules


def write(path, text=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)
    return path


def test_uninstall_removes_the_recorded_files_their_bytecode_and_directories_left_empty(tmp_path):
    site = str(tmp_path)
    info = os.path.join(site, "greet-1.0.0.dist-info")
    for p in ("greet/__init__.py", "greet/data/words.txt", "greet-1.0.0.dist-info/METADATA", "shared/mine.py"):
        write(os.path.join(site, p), "x")
    pyc = write(importlib.util.cache_from_source(os.path.join(site, "greet", "__init__.py")))
    write(os.path.join(site, "shared", "theirs.py"))  # another distribution's, in the same directory
    write(
        os.path.join(info, "RECORD"),
        "greet/__init__.py,,\ngreet/data/words.txt,,\ngreet-1.0.0.dist-info/METADATA,,\n"
        "greet-1.0.0.dist-info/RECORD,,\nshared/mine.py,,\ngreet/missing.py,,\n",
    )
    removed = uninstalled(info)
    # Whole directories where everything under them goes; single files elsewhere; what is not there, nothing.
    assert removed == {os.path.join(site, "greet"), info, os.path.join(site, "shared", "mine.py")}
    assert pyc.startswith(os.path.join(site, "greet") + os.sep)


def test_bytecode_is_compiled_as_if_in_place_and_listed_in_the_sorted_record(tmp_path):
    stage, lib, info = str(tmp_path / "stage"), "/opt/env/lib/site", "greet-2.0.0.dist-info"
    write(stage + lib + "/greet/__init__.py", "X = 1\n")
    write(stage + lib + "/greet/broken.py", "def (:\n")
    write(
        stage + lib + "/" + info + "/RECORD", "greet/__init__.py,sha256=abc,6\ngreet/broken.py,,8\n%s/RECORD,,\n" % info
    )
    compile_staged(stage, lib, info)
    with open(stage + lib + "/" + info + "/RECORD") as fh:
        rows = [r for r in csv.reader(fh) if r]
    assert rows == sorted(rows)
    pyc = os.path.relpath(importlib.util.cache_from_source(lib + "/greet/__init__.py"), lib)
    row = next(r for r in rows if r[0] == pyc)
    with open(stage + lib + "/" + pyc, "rb") as fh:
        data = fh.read()
    assert row == [pyc, record_hash(data), str(len(data))]
    assert lib.encode() + b"/greet/__init__.py" in data, "its path in tracebacks is where it goes"
    assert not any("broken" in r[0] and r[0].endswith(".pyc") for r in rows), "a module that does not compile gets none"


@pytest.mark.parametrize("epoch", [None, "315532800"])
def test_bytecode_compiled_early_from_the_source_is_what_py_compile_writes(tmp_path, monkeypatch, epoch):
    if epoch:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)  # py_compile writes hash-based bytecode then
    src, stage, lib, info = str(tmp_path / "src"), str(tmp_path / "stage"), "/opt/env/lib/site", "big-1.0.dist-info"
    texts = {"big/__init__.py": "", "big/a.py": "A = 1\n", "big/sub/b.py": "B = 'b'\n", "big/c.py": "C = 1\n"}
    for n, text in texts.items():
        write(src + "/src/" + n, text)
    write(src + "/src/big/sub/__init__.py")
    write(src + "/setup.py", "raise SystemExit\n")
    assert sorted(rel for _, rel in source_modules(src)) == sorted(list(texts) + ["big/sub/__init__.py", "setup.py"])
    early = Early.compiled(source_modules(src), lib)
    assert lib + "/big/sub/b.py" in early.codes
    assert Early.forked(source_modules(src), lib)().codes == early.codes, "a forked process compiles the same"
    for n, text in texts.items():  # the build changed c.py: its early code must not serve
        write(stage + lib + "/" + n, "C = 2\n" if n == "big/c.py" else text)
    write(stage + lib + "/" + info + "/RECORD", "".join("%s,,\n" % n for n in texts))
    compile_staged(stage, lib, info, early)
    for n in texts:
        pyc = importlib.util.cache_from_source(lib + "/" + n)
        with open(stage + pyc, "rb") as fh:
            written = fh.read()
        assert compile_one((stage, lib + "/" + n, lib + "/again.pyc")) is True
        with open(stage + lib + "/again.pyc", "rb") as fh:
            assert fh.read() == written, n
        assert os.stat(stage + pyc).st_mode == os.stat(stage + lib + "/again.pyc").st_mode
        row = [os.path.relpath(pyc, lib), record_hash(written), str(len(written))]
        with open(stage + lib + "/" + info + "/RECORD") as fh:
            assert row in [r for r in csv.reader(fh) if r], "the RECORD lists it as it is"


def test_whiteouts_hide_what_goes_but_not_the_new_files_under_it(tmp_path):
    old = tmp_path / "greet"
    write(str(old / "__init__.py"))
    write(str(old / "old.py"))
    write(str(old / "sub" / "gone.py"))
    files = {str(old / "__init__.py"): None}
    assert hidden({str(old)}, files) == {str(old / "old.py"), str(old / "sub")}
    assert hidden({str(old / "old.py")}, files) == {str(old / "old.py")}


def test_an_installed_file_is_learned_as_the_one_source_file_it_copies():
    data = b"def hello():\n    return 1\n"
    sources = {hashlib.sha256(data).hexdigest(): ["src/greet/core.py", "tests/core.py"]}
    assert source_of(["greet", "core.py"], data, sources) == "src/greet/core.py", "the longer common tail wins"
    same = {hashlib.sha256(data).hexdigest(): ["a/core.py", "b/core.py"]}
    assert source_of(["greet", "core.py"], data, same) is None, "which one cannot be told"
    empty = {hashlib.sha256(b"").hexdigest(): ["greet/__init__.py", "greet/sub/__init__.py"]}
    assert source_of(["greet", "sub", "__init__.py"], b"", empty) == "greet/sub/__init__.py"
    assert source_of(["other", "__init__.py"], b"", empty) is None, "an empty file only at the same path"
    assert source_of(["greet", "core.py"], b"changed", sources) is None


@pytest.mark.parametrize(
    "files, rel, read",
    [
        # setuptools' attr: the module the version is read from
        ({"setup.cfg": "[metadata]\nversion = attr: greet.about.VERSION\n"}, "greet/about.py", True),
        ({"setup.cfg": "[metadata]\nversion = attr: greet.about.VERSION\n"}, "greet/core.py", False),
        # a static version in [project]: __version__ is read by nothing
        ({"pyproject.toml": '[project]\nname = "greet"\nversion = "1.0"\n'}, "greet/__init__.py", False),
        ({"pyproject.toml": '[project]\nname = "greet"\ndynamic = ["version"]\n'}, "greet/__init__.py", True),
        # flit: the top-level package's docstring and version
        ({"pyproject.toml": '[build-system]\nbuild-backend = "flit_core.buildapi"\n'}, "greet/__init__.py", True),
        # a file the build configuration names
        ({"pyproject.toml": '[project]\nname = "greet"\nversion = "1"\nreadme = "README.md"\n'}, "README.md", True),
    ],
)
def test_a_file_the_build_reads_for_metadata_is_marked(tmp_path, files, rel, read):
    for name, text in files.items():
        write(str(tmp_path / name), text)
    text = b"__version__ = '1.0'\n" if rel.endswith("__init__.py") else b"VERSION = '1.0'\n"
    assert Metadata(str(tmp_path)).read_by_build(rel, rel.split("/"), text) is read


def test_top_level_names_are_packages_and_modules():
    files = ["greet/__init__.py", "greet/core.py", "single.py", "greet-1.0.dist-info/RECORD", "__editable__.x.py"]
    files += ["../../bin/greet", "nspkg/mod.py", "__pycache__/single.cpython-311.pyc"]
    assert top_level(files) == ["greet", "single"]


def test_the_conda_record_of_a_distribution_is_found_by_what_it_lists(tmp_path):
    prefix = str(tmp_path)
    info = os.path.join(prefix, "lib", "site", "greet-1.0.dist-info")
    write(os.path.join(prefix, "conda-meta", "other-1.json"), '{"files": ["lib/site/other.py"]}')
    write(
        os.path.join(prefix, "conda-meta", "py-greet-1.0-0.json"),
        '{"files": ["lib/site/greet-1.0.dist-info/METADATA", "lib/site/greet/__init__.py"]}',
    )
    record, files = conda_files("greet", info, prefix)
    assert record == "conda-meta/py-greet-1.0-0.json"
    assert files == [
        os.path.join(prefix, "lib/site/greet-1.0.dist-info/METADATA"),
        os.path.join(prefix, "lib/site/greet/__init__.py"),
    ]


def test_many_modules_compile_in_parallel_to_the_same_bytecode(tmp_path):
    stage, lib, info = str(tmp_path / "stage"), "/opt/env/lib/site", "big-1.0.dist-info"
    names = ["big/mod_%02d.py" % i for i in range(80)] + ["big/broken.py"]
    for n in names:
        write(stage + lib + "/" + n, "def (:\n" if "broken" in n else "X = %r\n" % n)
    write(stage + lib + "/" + info + "/RECORD", "".join("%s,,\n" % n for n in names))
    compile_staged(stage, lib, info)
    with open(stage + lib + "/" + info + "/RECORD") as fh:
        pycs = [r[0] for r in csv.reader(fh) if r and r[0].endswith(".pyc")]
    assert len(pycs) == 80, "each module but the broken one"
    for pyc in pycs:
        with open(stage + lib + "/" + pyc, "rb") as fh:
            parallel = fh.read()
        source = lib + "/big/" + os.path.basename(pyc).split(".")[0] + ".py"
        assert compile_one((stage, source, lib + "/again.pyc")) is True
        with open(stage + lib + "/again.pyc", "rb") as fh:
            assert fh.read() == parallel, pyc
