"""
The install in the work container, under one interpreter of the image: the sources nfhot
exported, installed as pip would (or as a layer nfhot writes), leaving only the install behind:
files readable by any uid and owned like the environment, no older copy of the packages still
importable or listed. pip's output goes to stderr; the answer, one JSON line, to stdout.
"""

import os
import shutil
import sys

from nfhot_install import build
from nfhot_install.environment import check_syntax, location, replace_unrecorded, settle, unshadow
from nfhot_install.job import Answer, Installed, NeedsBackend, NeedsNetwork
from nfhot_install.layer import as_layer
from nfhot_install.learn import Disk, installed_files, learn
from nfhot_install.pip import Pip, install_unmet, installer, unmet_requirements, write_direct_url
from nfhot_install.util import canonical, metadata
from nfhot_install.wheels import build_wheels, hand_version


def main(job, exported, building):
    """
    The job done, and the answer (job.Answer). `exported`: the first source's files
    (learn.source_files) when the syncs are to learn; `building`: its build, started
    (entry.start_build), or None.
    """
    try:
        pip = Pip(job.root, job.pip_wheel)
        built = build_wheels(job, building)
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
        if building is not None and building.poll() is None:  # the install failed first
            building.kill()
            building.wait()
        # The job's files go with the last interpreter's job (the others' sources are there too).
        if job.last:
            shutil.rmtree(job.root, ignore_errors=True)


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
