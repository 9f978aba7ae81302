"""What every part of the install says and does alike: package names, messages, removing a path."""

import os
import re
import shutil
import sys


def canonical(name):
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name or "").lower()


def say(text):
    sys.stderr.write("nfhot: %s\n" % text)
    sys.stderr.flush()


def remove_path(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def last_json_line(text):
    """The JSON object a program printed last (a build's answer), or None."""
    import json

    try:
        return json.loads(text.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
