"""
The unit tests of src/python (npm run test:python), without Docker: the package imported here,
and whole installs run by the zipapp under a throwaway venv of this machine's python3.
"""

import json
import os
import shutil
import subprocess
import sys
import zipapp

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON_SRC = os.path.join(ROOT, "src", "python")
SCHEMA = os.path.join(ROOT, "src", "core", "patch", "install.schema.json")
sys.path.insert(0, PYTHON_SRC)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """nfhot.pyz as scripts/build.js makes it: __main__.py and the package nfhot_install."""
    staging = tmp_path_factory.mktemp("app")
    shutil.copy(os.path.join(PYTHON_SRC, "__main__.py"), staging)
    shutil.copytree(
        os.path.join(PYTHON_SRC, "nfhot_install"),
        staging / "nfhot_install",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    target = tmp_path_factory.mktemp("dist") / "nfhot.pyz"
    zipapp.create_archive(str(staging), str(target))
    return str(target)


@pytest.fixture(scope="session")
def template_venv(tmp_path_factory):
    """A venv of this machine's python3, with pip: copied for each test that installs."""
    base = getattr(sys, "_base_executable", sys.executable)
    path = tmp_path_factory.mktemp("template") / "venv"
    subprocess.run([base, "-m", "venv", str(path)], check=True)
    return path


class Env:
    """A throwaway environment (a venv), and the install run into it as the work container runs it."""

    def __init__(self, path, app, work):
        self.path, self.app, self.work = str(path), app, str(work)
        self.python = os.path.join(self.path, "bin", "python")
        out = subprocess.run(
            [self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            stdout=subprocess.PIPE,
        )
        self.site = out.stdout.decode().strip()

    def pip(self, *args):
        """pip of the environment, offline."""
        env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
        subprocess.run([self.python, "-m", "pip", "install", "-q"] + list(args), check=True, env=env)

    def job(self, sources, **settings):
        """A job as install-job.ts writes it, for these sources ({dir, directUrl, …}; id by position)."""
        job = {
            "root": self.work,
            "noDeps": False,
            "sources": [
                dict({"id": i, "directUrl": {"url": "file:///src", "dir_info": {}}}, **s) for i, s in enumerate(sources)
            ],
            "replace": [s["name"] for s in sources if s.get("name")],
            "checkSyntax": True,
            "learn": False,
            "layer": self.work + ".layer.tar",
            "pipWheel": None,
        }
        job.update(settings)
        return job

    def install(self, job):
        """The install run by the zipapp: (exit code, answer or None, stderr)."""
        os.makedirs(self.work, exist_ok=True)
        env = dict(os.environ, PIP_NO_INDEX="1")
        for key in ("PYTHONPATH", "VIRTUAL_ENV"):
            env.pop(key, None)
        done = subprocess.run(
            [self.python, self.app, "install", json.dumps(job)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd="/",
        )
        lines = done.stdout.decode().strip().splitlines()
        return done.returncode, json.loads(lines[-1]) if lines else None, done.stderr.decode()


@pytest.fixture
def env(template_venv, app, tmp_path):
    path = tmp_path / "env"
    shutil.copytree(str(template_venv), str(path), symlinks=True)
    return Env(path, app, tmp_path / "work")


@pytest.fixture(scope="session")
def schema():
    with open(SCHEMA) as fh:
        return json.load(fh)
