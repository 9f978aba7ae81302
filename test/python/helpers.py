"""What the unit tests of src/python make: wheels as a build backend writes them."""

import base64
import csv
import hashlib
import io
import os
import zipfile


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(directory, name, version, files, requires=(), purelib=True):
    """A wheel as a build backend writes one: the files, METADATA, WHEEL and RECORD."""
    dist = "%s-%s" % (name.replace("-", "_"), version)
    info = dist + ".dist-info"
    contents = {path: text.encode() if isinstance(text, str) else text for path, text in files.items()}
    contents[info + "/METADATA"] = (
        "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
        + "".join("Requires-Dist: %s\n" % r for r in requires)
    ).encode()
    contents[info + "/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: nfhot-test\nRoot-Is-Purelib: %s\nTag: py3-none-any\n"
        % ("true" if purelib else "false")
    ).encode()
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    for path, data in sorted(contents.items()):
        writer.writerow([path, record_hash(data), len(data)])
    writer.writerow([info + "/RECORD", "", ""])
    contents[info + "/RECORD"] = rows.getvalue().encode()
    path = os.path.join(directory, "%s-py3-none-any.whl" % dist)
    with zipfile.ZipFile(path, "w") as z:
        for name_, data in sorted(contents.items()):
            z.writestr(name_, data)
    return path
