"""
The bytecode pip compiles as it installs, for the modules a layer stages: compiled early, from the
source's modules while its wheel builds (in a process forked for it), and for the rest after
staging, in parallel when there are many.
"""

import csv
import hashlib
import importlib.machinery
import importlib.util
import marshal
import os
import struct
import warnings

from nfhot_install.pip import record_hash


def compile_one(job):
    """One module's bytecode (stage + real → stage + pyc, its path in tracebacks `real`); whether it compiled."""
    import py_compile

    stage, real, pyc = job
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            py_compile.compile(stage + real, cfile=stage + pyc, dfile=real, doraise=True)
        return True
    except py_compile.PyCompileError:
        return False


def compile_all(jobs):
    """Whether each module compiled: in parallel on every core when there are many (forked workers), else here."""
    workers = min(os.cpu_count() or 1, 8)
    if workers > 1 and len(jobs) >= 64:
        try:
            import multiprocessing

            with multiprocessing.get_context("fork").Pool(workers) as pool:
                return pool.map(compile_one, jobs, chunksize=max(1, len(jobs) // (workers * 4)))
        except (ImportError, OSError, ValueError):
            pass  # no fork here, or no processes to be had: one by one
    return [compile_one(j) for j in jobs]


class Early:
    """
    Code compiled from a source's modules before its wheel is staged: {where a module goes: (the
    digest of its bytes, its code marshalled)}. A staged module with those bytes, at that place,
    gets its bytecode written from it as py_compile writes it (header, mode); any other is
    compiled then.
    """

    def __init__(self):
        self.codes = {}

    @staticmethod
    def possible():
        """Whether this Python has what py_compile writes bytecode with (3.8 on), and a core to spare."""
        import py_compile
        from importlib import _bootstrap_external as bx

        spare = (os.cpu_count() or 1) > 1
        written = all(hasattr(bx, n) for n in ("_calc_mode", "_write_atomic"))
        return spare and written and hasattr(py_compile, "_get_default_invalidation_mode")

    @classmethod
    def compiled(cls, modules, lib):
        """`modules` ([(path, path under lib)]) compiled as if in `lib`."""
        early = cls()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for path, rel in modules:
                real = os.path.join(lib, rel)
                try:
                    with open(path, "rb") as fh:
                        data = fh.read()
                    code = importlib.machinery.SourceFileLoader("<py_compile>", path).source_to_code(data, real)
                except Exception:
                    continue  # compiled again after staging, and failing there as it would
                early.codes[real] = (hashlib.sha256(data).digest(), marshal.dumps(code))
        return early

    @classmethod
    def forked(cls, modules, lib):
        """
        `modules` compiled as compiled() does, all of them, in a process forked for it: the build
        and pip's installer's imports take this process's core and another meanwhile, and it
        fills what they leave. Returns a callable that gives the Early once it is done (an empty
        one when no process could be had or it failed: its modules are then compiled after staging).
        """
        modules = list(modules)
        try:
            r, w = os.pipe()
            pid = os.fork()
        except OSError:
            return cls
        if pid == 0:
            try:
                os.close(r)
                with os.fdopen(w, "wb") as out:
                    out.write(marshal.dumps(cls.compiled(modules, lib).codes))
            finally:
                os._exit(0)  # nothing of the install's process runs here: no flushing, no exit handlers
        os.close(w)

        def result():
            early = cls()
            with os.fdopen(r, "rb") as fh:
                data = fh.read()
            os.waitpid(pid, 0)
            try:
                early.codes = marshal.loads(data)
            except (EOFError, ValueError, TypeError):
                pass
            return early

        return result

    def write(self, job):
        """The module's bytecode written from its early code, if the staged bytes are those compiled: its bytes (else None)."""
        import py_compile
        from importlib import _bootstrap_external as bx

        stage, real, pyc = job
        entry = self.codes.get(real)
        if entry is None:
            return None
        file = stage + real
        with open(file, "rb") as fh:
            data = fh.read()
        if hashlib.sha256(data).digest() != entry[0]:
            return None
        os.makedirs(os.path.dirname(stage + pyc), exist_ok=True)
        # PEP 552's header: by the source's time and size, or (SOURCE_DATE_EPOCH set) by its hash.
        mode = py_compile._get_default_invalidation_mode()
        if mode == py_compile.PycInvalidationMode.TIMESTAMP:
            st = os.stat(file)
            head = struct.pack("<III", 0, int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)
        else:
            checked = mode == py_compile.PycInvalidationMode.CHECKED_HASH
            head = struct.pack("<I", 0b1 | checked << 1) + importlib.util.source_hash(data)
        pyc_data = importlib.util.MAGIC_NUMBER + head + entry[1]
        bx._write_atomic(stage + pyc, pyc_data, bx._calc_mode(file))
        return pyc_data


def compile_staged(stage, lib, info, early=None):
    """
    The bytecode pip compiles as it installs, for each module the wheel put in place (its
    __pycache__, this interpreter's tag), compiled as if where it goes (its path in tracebacks),
    and listed in the RECORD, whose rows pip sorts; a module that does not compile gets none.
    `early`: an Early, whose code serves the modules it has.
    """
    record = os.path.join(stage + lib, info, "RECORD")
    with open(record, encoding="utf-8", newline="") as fh:
        rows = [tuple(r) for r in csv.reader(fh) if r]
    jobs = []
    for row in rows:
        real = os.path.normpath(os.path.join(lib, row[0]))
        if real.endswith(".py") and os.path.isfile(stage + real):
            jobs.append((stage, real, importlib.util.cache_from_source(real)))
    written = {}  # {job: the bytecode written from early code}
    for j in jobs if early is not None else ():
        data = early.write(j)
        if data is not None:
            written[j] = data
    rest = [j for j in jobs if j not in written]
    compiled = {j for j, ok in zip(rest, compile_all(rest)) if ok}
    for j in jobs:
        if j in compiled:
            with open(j[0] + j[2], "rb") as fh:
                written[j] = fh.read()
        if j in written:
            data = written[j]
            rows.append((os.path.relpath(j[2], lib).replace(os.sep, "/"), record_hash(data), str(len(data))))
    with open(record, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(sorted(rows))
