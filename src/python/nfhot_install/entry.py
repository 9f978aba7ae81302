"""
The install's entry (`nfhot.pyz install JOB`, and the work container's boot.py): the job read,
the process readied, and the one wheel a layer is to be written from set building before
anything else is imported. The install's own imports and pip's installer (a quarter of a second)
are then readied on the other core while the wheel builds.
"""

import json
import os
import subprocess
import sys

from nfhot_install.job import InstallError, Job

# The program this package is part of (the zipapp, or its source directory): `build` runs from it.
APP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def install(text):
    """The job (JSON) done: its answer printed, and the exit code that goes with it."""
    try:
        job = Job.parse(text)
    except (ValueError, TypeError, KeyError) as e:
        sys.stderr.write("nfhot: error: the install's job does not read (%s): nfhot and its zipapp disagree\n" % e)
        return 2
    prepare(job)
    exported = None
    if job.learn:  # the source's files, before the build writes its own beside them
        from nfhot_install.learn import source_files

        exported = source_files(job.sources[0].dir)
    building = start_build(job)
    try:
        from nfhot_install.main import main

        answer = main(job, exported, building)
    except InstallError as e:
        if e.args[0]:
            sys.stderr.write("nfhot: error: %s\n" % e.args[0])
        return e.exit_code
    sys.stdout.write(json.dumps(answer.to_json()) + "\n")
    sys.stdout.flush()
    return answer.exit_code


def prepare(job):
    """The process as the install (and the build it starts) needs it: no bytecode of its own, files readable by all, temporary files in the job's root, pip's settings."""
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


def build_command(python, src, out, facts):
    return [python, APP, "build", src, out, json.dumps(facts) if facts else ""]


def start_build(job):
    """
    The build of the job's one source in a process of its own, when a layer is to be written from
    its wheel (wheels.build_alongside reads its answer); else None. A build that finds its backend
    missing answers so at once.
    """
    if not job.layer or len(job.sources) != 1 or job.sources[0].wheel:
        return None
    source = job.sources[0]
    out = os.path.join(job.root, "wheels", "0")
    return subprocess.Popen(
        build_command(sys.executable, source.dir, out, source.facts()), stdout=subprocess.PIPE, cwd="/"
    )
