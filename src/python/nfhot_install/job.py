"""
The job nfhot gives the install, and the answers it gets back: as install.schema.json defines
them (src/core/patch/install-job.ts writes the job and reads the answers; a contract test holds
both sides to the schema). JSON's names are camelCase; here they are snake_case.
"""

import json
import re
from dataclasses import dataclass, field, fields
from typing import Dict, List, Optional

# --- the job -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One source to install, exported by nfhot into `dir`."""

    id: int
    dir: str
    direct_url: dict  # PEP 610's, recorded as the install's provenance (no credentials)
    name: Optional[str] = None  # the distribution it replaces, when known
    version: Optional[dict] = None  # the facts git gave of its version, for the build (build.py)
    wheel: Optional[str] = None  # its wheel, built elsewhere (on nfhot's machine)

    def facts(self):
        """What build.py is told of the version: the facts, with the name."""
        return dict(self.version, name=self.name) if self.version else None

    @property
    def label(self):
        return self.name or "the package"


@dataclass(frozen=True)
class Job:
    """
    One interpreter's part of the work container's install. `root` holds the sources, the
    zipapp, pip-env.json (the PIP_* settings of the user's index) and wheels built elsewhere.
    """

    root: str
    sources: List[Source]
    no_deps: bool
    replace: List[str]  # what pip cannot uninstall is removed first: the distributions this replaces
    check_syntax: bool
    learn: bool  # say where the first source's files went, for later syncs
    layer: Optional[str]  # where to write one new wheel, when certain, as a layer's tar (no pip, no network)
    pip_wheel: Optional[str]  # pip to run from, when the interpreter has none
    receive: bool = False  # the first interpreter's job: it reads root's files from stdin
    last: bool = True  # the last interpreter's job: it removes root
    builders: List[str] = field(default_factory=list)  # other interpreters, to build a wheel with
    isolated: bool = False  # pip may build a source in isolation, fetching its backend

    @staticmethod
    def parse(text):
        """The job from its JSON; a key the job does not have, or one it needs and lacks, is an error."""
        raw = json.loads(text)
        return _build(Job, dict(raw, sources=[_build(Source, s) for s in raw["sources"]]))


def snake(name):
    return re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), name)


def camel(name):
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def _build(cls, raw):
    known = {f.name for f in fields(cls)}
    values = {snake(k): v for k, v in raw.items()}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError("%s has no %s" % (cls.__name__, ", ".join(camel(u) for u in unknown)))
    return cls(**values)


# --- the answers ---------------------------------------------------------------------------------


class Answer:
    """What the install answers: one JSON line on stdout, and the exit code that goes with it."""

    exit_code = 0

    def to_json(self):
        return {camel(f.name): getattr(self, f.name) for f in fields(self)}


@dataclass
class Installed(Answer):
    """Installed with pip (`pip`: why pip rather than a layer, when a layer was asked for)."""

    installed: List[Dict]  # {name, version, source: the source's id, or null for a dependency}
    learned: Optional[dict]
    pip: Optional[str] = None


@dataclass
class Layered(Answer):
    """Installed as a layer nfhot writes (no pip run, no commit). "layer" comes first: nfhot
    takes the answer as whole when its last line starts so."""

    layer: Dict  # the layer's tar, written in the container: {tar: its path, size, diffId, files}
    installed: List[Dict]
    learned: Optional[dict]


@dataclass
class NeedsBackend(Answer):
    """A source's build backend is in no interpreter here: nfhot builds its wheel elsewhere and starts again."""

    needs: List[Dict]  # {source, missing: [requirements], backend}
    searched: List[str]
    exit_code = 75  # EX_TEMPFAIL: the interpreters after this one do not run


@dataclass
class NeedsNetwork(Answer):
    """pip must install, and may need an index: nfhot starts again in a container with a network."""

    network: str
    exit_code = 76


class InstallError(Exception):
    """The install failed: said on stderr as `nfhot: error: …`; pip's own failure (no message) exits with pip's code, pip having said why."""

    def __init__(self, message, exit_code=1):
        super().__init__(message)
        self.exit_code = exit_code
