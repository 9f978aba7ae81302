"""
nfhot.pyz, the zipapp of nfhot_install (scripts/build.js makes it from this directory; run from
the source, `python src/python ...` does the same):
  python nfhot.pyz install JOB-JSON          the install in the work container (nfhot_install.entry)
  python nfhot.pyz build SRC OUT [FACTS]     a source's wheel (nfhot_install.build)
"""

import os
import sys


def main(argv):
    if argv[:1] == ["install"] and len(argv) == 2:
        from nfhot_install.entry import install

        return install(argv[1])
    if argv[:1] == ["build"] and len(argv) in (3, 4):
        from nfhot_install.build import main as build

        code = build(argv[1:])
        # Its answer printed, its wheel written: the install that waits for it does not wait for
        # the interpreter to unload the backend too (setuptools takes 0.05 s).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
