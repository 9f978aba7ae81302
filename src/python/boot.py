# The work container's command under each interpreter of the image (`python -c BOOT JOB-JSON`):
# the first interpreter's job reads the job's files from stdin (tar archives, one after another;
# an engine that cannot send them copied them in before, and stdin is empty), the zipapp among
# them; then the install, from the zipapp.
import json
import os
import sys
import tarfile

job = json.loads(sys.argv[1])
if job.get("receive"):
    try:
        with tarfile.open(fileobj=sys.stdin.buffer, mode="r|", ignore_zeros=True) as tar:
            tar.extractall("/", **({"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}))
    except tarfile.ReadError:
        pass  # nothing came
sys.path.insert(0, os.path.join(job["root"], "nfhot.pyz"))
from nfhot_install.entry import install  # noqa: E402

sys.exit(install(sys.argv[1]))
