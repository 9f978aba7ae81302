"""
The install in the work container, under one interpreter of the image: the sources nfhot
exported, installed as pip would (or as a layer nfhot writes), leaving only the install behind:
files readable by any uid and owned like the environment, no older copy of the packages still
importable or listed. pip's output goes to stderr; the answer, one JSON line, to stdout.
"""

import json
import os
import shutil
import sys

from nfhot_install import build
from nfhot_install.environment import check_syntax, location, replace_unrecorded, settle, unshadow
from nfhot_install.job import Answer, Installed, InstallError, Job, NeedsBackend, NeedsNetwork
from nfhot_install.layer import as_layer
from nfhot_install.learn import Disk, installed_files, learn, source_files
from nfhot_install.pip import Pip, install_unmet, installer, unmet_requirements, write_direct_url
from nfhot_install.util import canonical, metadata
from nfhot_install.wheels import build_wheels, hand_version


def run(text):
    """The job (JSON) done: its answer printed, and the exit code that goes with it."""
    try:
        job = Job.parse(text)
    except (ValueError, TypeError, KeyError) as e:
        sys.stderr.write("nfhot: error: the install's job does not read (%s): nfhot and its zipapp disagree\n" % e)
        return 2
    try:
        answer = main(job)
    except InstallError as e:
        if e.args[0]:
            sys.stderr.write("nfhot: error: %s\n" % e.args[0])
        return e.exit_code
    sys.stdout.write(json.dumps(answer.to_json()) + "\n")
    sys.stdout.flush()
    return answer.exit_code


def main(job):
    """The job done, and the answer (job.Answer)."""
    prepare(job)
    try:
        pip = Pip(job.root, job.pip_wheel)
        exported = source_files(job.sources[0].dir) if job.learn else None
        built = build_wheels(job)
        if built.needs and not job.isolated:
            return NeedsBackend(needs=built.needs, searched=[sys.executable] + job.builders)
        why_pip = None
        if job.layer:
            answer, network = layer_or_why(job, built, exported)
            if isinstance(answer, Answer):
                return answer
            # This container has no network: pip, which may need an index, runs in one that has.
            if network and not job.no_deps:
                return NeedsNetwork(network=answer)
            why_pip = answer
        return with_pip(job, pip, built.wheels, why_pip, exported)
    finally:
        # The job's files go with the last interpreter's job (the others' sources are there too).
        if job.last:
            shutil.rmtree(job.root, ignore_errors=True)


def prepare(job):
    """The process as the install needs it: no bytecode of its own, files readable by all, temporary files in the job's root, pip's settings."""
    sys.dont_write_bytecode = True
    os.umask(0o022)  # tasks run as the caller's uid: everything installed must be world-readable
    # Temporary files stay under the job's root: some images have no /tmp (BioContainers' base).
    tmp = os.path.join(job.root, "tmp")
    os.makedirs(tmp, exist_ok=True)
    os.environ.update(TMPDIR=tmp, TEMP=tmp, TMP=tmp)
    import tempfile

    tempfile.tempdir = tmp
    # PIP_BREAK_SYSTEM_PACKAGES: the image is the user's. PIP_USER=0: into the environment or fail;
    # never into root's ~/.local, which the tasks' uid cannot see.
    os.environ.update(
        PIP_BREAK_SYSTEM_PACKAGES="1", PIP_ROOT_USER_ACTION="ignore", PIP_USER="0", PYTHONDONTWRITEBYTECODE="1"
    )
    # The user's index for this install (read and removed before pip runs).
    settings = os.path.join(job.root, "pip-env.json")
    if os.path.exists(settings):
        with open(settings) as fh:
            os.environ.update(json.load(fh))
        os.remove(settings)


def layer_or_why(job, built, exported):
    """
    Without pip when it can be done with certainty (one wheel, built here, nothing it requires
    missing): the layer (Layered). Else why pip installs, and whether pip may need an index.
    """
    if len(job.sources) > 1:
        return "the image's other patches are installed again with it", 0 not in built.wheels
    if 0 not in built.wheels:
        return "its wheel was not built in this process", True
    unmet = [] if job.no_deps else unmet_requirements(built.wheels[0])
    if unmet is None:
        return "what it requires cannot be checked", True
    if unmet:
        return "it requires %s, which the environment lacks" % ", ".join(unmet), True
    return as_layer(
        job, job.sources[0], built.wheels[0], built.installer or installer(), built.view, exported, built.early
    ), False


def with_pip(job, pip, wheels, why_pip, exported):
    """The install done by pip: the wheels built, then the sources pip builds; what came from which source."""
    replace_unrecorded(job.replace)
    built = [wheels[i] for i in sorted(wheels)]
    install_unmet(pip, built, job.no_deps)
    if built:
        pip.install(["--force-reinstall", "--no-deps"], built)
    rest = [s for i, s in enumerate(job.sources) if i not in wheels]
    lacking = [s for s in rest if build.missing_requirements(s.dir)]
    for s in lacking:
        hand_version(s, only=False)  # pip builds it in isolation, with the backend it fetches
    if rest:
        # Offline images can build only with the backend they already have: no isolation when it is here.
        here = not lacking
        pip.install(
            (["--no-build-isolation"] if here else []) + (["--no-deps"] if job.no_deps else []), [s.dir for s in rest]
        )
    targets = {os.path.normpath(wheels.get(i, s.dir)): s.id for i, s in enumerate(job.sources)}
    result = pip.installed(targets)
    installed, first = settled(job, result)
    if job.check_syntax:
        check_syntax((str(f.locate()), str(f)) for d in installed for f in d.files or [] if not str(f).startswith(".."))
    unshadow(installed)
    learned = None
    if exported is not None and first:
        learned = learn(*installed_files(first), Disk, job.sources[0].dir, exported)
    return Installed(installed=result, learned=learned, pip=why_pip)


def settled(job, result):
    """
    The distributions pip installed from the sources (and the first source's), their provenance
    recorded and every installed file settled (environment.settle).
    """
    by_id = {s.id: s for s in job.sources}
    installed, first = [], None
    for entry in result:
        # This process's sys.path may still reach an older copy: take the one pip just installed.
        dist = next(
            (
                d
                for d in metadata.distributions()
                if canonical(d.metadata["Name"]) == canonical(entry["name"]) and d.version == entry["version"]
            ),
            None,
        )
        if dist is None:
            continue
        files = dist.files or []
        if entry["source"] is not None:
            write_direct_url(files, by_id[entry["source"]].direct_url)
            installed.append(dist)
            first = dist if entry["source"] == job.sources[0].id else first
        settle([str(f.locate()) for f in files], os.path.dirname(location(dist)))
    return installed, first
