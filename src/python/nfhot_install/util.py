"""What every part of the install says and does alike: package names, messages, removing a path."""

import os
import re
import shutil
import sys

try:
    from importlib import metadata
except ImportError:  # Python < 3.8: the backport, where the interpreter has it (a builder may have neither)
    try:
        import importlib_metadata as metadata
    except ImportError:
        metadata = None


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
