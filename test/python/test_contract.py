"""The Python side of install.schema.json: the job it reads and the answers it writes are the schema's."""

import dataclasses
import json
import subprocess
import sys

import jsonschema
import pytest
from nfhot_install import job as contract
from nfhot_install.job import Job, camel


def schema_of(schema, name):
    return schema["$defs"][name]


@pytest.mark.parametrize(
    "cls, name",
    [
        (contract.Job, "Job"),
        (contract.Source, "Source"),
        (contract.Installed, "Installed"),
        (contract.Layered, "Layered"),
        (contract.NeedsBackend, "NeedsBackend"),
        (contract.NeedsNetwork, "NeedsNetwork"),
    ],
)
def test_each_dataclass_has_the_schemas_properties(schema, cls, name):
    defined = schema_of(schema, name)
    fields = {camel(f.name): f for f in dataclasses.fields(cls)}
    assert set(fields) == set(defined["properties"])
    if cls in (contract.Job, contract.Source):  # read: what the schema requires has no default here
        required = {
            n
            for n, f in fields.items()
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        assert required == set(defined["required"])
    else:  # written: every property, always
        assert set(defined["required"]) == set(fields)


def test_a_job_is_read_strictly(schema):
    raw = {
        "root": "/nfhot-work",
        "receive": True,
        "noDeps": False,
        "sources": [{"id": 0, "dir": "/nfhot-work/0", "directUrl": {"url": "file:///r"}, "name": "greet"}],
        "replace": ["greet"],
        "checkSyntax": True,
        "learn": False,
        "layer": "/nfhot-work.layer.tar",
        "pipWheel": None,
    }
    jsonschema.validate(raw, dict(schema, **{"$ref": "#/$defs/Job"}))
    job = Job.parse(json.dumps(raw))
    assert (job.no_deps, job.check_syntax, job.pip_wheel, job.last, job.builders) == (False, True, None, True, [])
    assert job.sources[0].direct_url == {"url": "file:///r"} and job.sources[0].label == "greet"
    with pytest.raises(ValueError, match="Job has no pipWheels"):
        Job.parse(json.dumps(dict(raw, pipWheels=None)))
    with pytest.raises(TypeError):
        Job.parse(json.dumps({k: v for k, v in raw.items() if k != "layer"}))


def test_the_answers_exit_codes_stop_the_interpreters_after():
    assert contract.Installed(installed=[], learned=None).exit_code == 0
    assert contract.NeedsBackend(needs=[], searched=[]).exit_code == 75
    assert contract.NeedsNetwork(network="why").exit_code == 76
    assert list(contract.Layered(layer=[], installed=[], learned=None).to_json()) == ["layer", "installed", "learned"]


def test_a_job_that_does_not_read_is_said_not_run(app):
    done = subprocess.run([sys.executable, app, "install", '{"root": "/nowhere", "sources": []}'], capture_output=True)
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.decode().startswith("nfhot: error: the install's job does not read (")
