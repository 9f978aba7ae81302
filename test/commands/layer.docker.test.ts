// A full install written as a layer by nfhot (no pip run, no commit) against pip's own install of
// the same wheel into the same image, file by file across the whole environment: contents, modes,
// owners, what the old version leaves behind and what goes. The original holds an older version
// with a module, a subpackage and a console script the new one lacks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { docker, fixtureTag, rawInspect } from '../helpers/docker.js';
import { tempDir } from '../helpers/repos.js';

function project(files: Record<string, string>): string {
  const dir = join(tempDir(), 'greet');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const pyproject = (version: string, scripts: string) =>
  `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "greet"\nversion = "${version}"\n\n[project.scripts]\n${scripts}\n\n[tool.setuptools.package-data]\ngreet = ["data/*.txt"]\n`;

const OLD = {
  'pyproject.toml': pyproject('1.5.0', 'greet = "greet.cli:main"\ngreet-old = "greet.old:main"'),
  'src/greet/__init__.py': '',
  'src/greet/cli.py': 'def main():\n    print("old")\n',
  'src/greet/old.py': 'def main():\n    print("gone")\n',
  'src/greet/sub/__init__.py': '',
  'src/greet/sub/deep.py': 'X = 1\n',
  'src/greet/data/word.txt': 'old\n',
};

const NEW = {
  'pyproject.toml': pyproject('2.0.0', 'greet = "greet.cli:main"\ngreet-new = "greet.cli:main"'),
  'src/greet/__init__.py': '',
  'src/greet/cli.py':
    'from importlib.resources import files\n\n\ndef main():\n    print("new", files("greet").joinpath("data/word.txt").read_text().strip())\n',
  'src/greet/extra.py': 'Y = 2\n',
  'src/greet/data/word.txt': 'word\n',
};

/** pip installs a directory (its wheel built first), then leaves the files as nfhot's install does: readable by all, owned like the environment. */
const PIP_INSTALL = `
set -e
rm -rf /tmp/s /tmp/w && cp -r /src /tmp/s
export PYTHONDONTWRITEBYTECODE=1
python3 -m pip wheel -q --no-deps --no-build-isolation --disable-pip-version-check -w /tmp/w /tmp/s
python3 -m pip install -q --no-deps --force-reinstall --disable-pip-version-check /tmp/w/*.whl
python3 - <<'EOF'
import os
from importlib import metadata
d = metadata.distribution("greet")
site = os.path.dirname(str(d._path))
for f in d.files:
    p = os.path.normpath(str(f.locate()))
    mode = os.lstat(p).st_mode
    os.chmod(p, mode | 0o444 | (0o111 if mode & 0o100 else 0))
    anchor = site if p.startswith(site + os.sep) else os.path.dirname(p)
    st, q = os.stat(anchor), p
    while q.startswith(anchor + os.sep):
        os.lchown(q, st.st_uid, st.st_gid)
        q = os.path.dirname(q)
EOF
rm -rf /tmp/s /tmp/w
`;

/**
 * Every path of the environment (sys.prefix) with its kind, mode, owner and content hash; aside:
 * direct_url.json, and its line in RECORD (its provenance differs by design), and the bytes of
 * bytecode (it holds its source's time): whether it is valid for its source instead.
 */
const LIST = String.raw`
import hashlib, importlib.util, json, os, stat, struct, sys
def valid(pyc):
    source = os.path.join(os.path.dirname(os.path.dirname(pyc)), os.path.basename(pyc).split(".")[0] + ".py")
    head = open(pyc, "rb").read(16)
    st = os.stat(source)
    return head[:4] == importlib.util.MAGIC_NUMBER and struct.unpack("<III", head[4:16]) == (0, int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)
out = {}
for root, dirs, files in os.walk(sys.prefix):
    for name in dirs + files:
        p = os.path.join(root, name)
        st = os.lstat(p)
        rel = os.path.relpath(p, sys.prefix)
        what = [stat.S_IFMT(st.st_mode), oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid]
        if stat.S_ISLNK(st.st_mode):
            what.append(os.readlink(p))
        elif rel.endswith(".pyc"):
            what.append(valid(p))
        elif stat.S_ISREG(st.st_mode) and not rel.endswith(".dist-info/direct_url.json"):
            data = open(p, "rb").read()
            if rel.endswith(".dist-info/RECORD"):
                rows = [l.split(b",") for l in data.split(b"\n") if b"direct_url.json" not in l.split(b",")[0]]
                data = b"\n".join(r[0] if r[0].endswith(b".pyc") else b",".join(r) for r in rows)
            what.append(hashlib.sha256(data).hexdigest())
        out[rel] = what
print(json.dumps(out))
`;

const listing = async (image: string) =>
  JSON.parse(await docker('run', '--rm', '-u', '0', '--entrypoint', 'python3', image, '-c', LIST)) as Record<
    string,
    unknown[]
  >;

/** A new image: `image` with `dir` installed by pip as above, its entrypoint, command and user kept. */
async function pipInstalled(image: string, dir: string, tag: string): Promise<void> {
  const name = `${tag.replace(/[^a-z0-9]+/g, '-')}-pip`;
  const config = (await rawInspect(image)).Config as {
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    User?: string;
  };
  const keep = [
    `ENTRYPOINT ${JSON.stringify(config.Entrypoint ?? [])}`,
    `CMD ${JSON.stringify(config.Cmd ?? [])}`,
    `USER ${config.User || 'root'}`,
  ];
  await docker(
    'run',
    '--name',
    name,
    '-u',
    '0',
    '--entrypoint',
    '/bin/sh',
    '-v',
    `${dir}:/src:ro`,
    image,
    '-c',
    PIP_INSTALL,
  );
  try {
    await docker('commit', ...keep.flatMap((c) => ['--change', c]), name, tag);
  } finally {
    await docker('rm', '-f', name);
  }
}

describe('a full install as a layer, against pip', () => {
  for (const fixture of ['venv', 'jupyter-pip']) {
    it(`${fixture}: the layer leaves the environment as pip leaves it, file by file`, async () => {
      // The original: the older version installed by pip, as the image's own.
      const base = await fixtureTag(fixture);
      const original = await fixtureTag(fixture, 'original');
      await pipInstalled(base, project(OLD), original);
      const reference = await fixtureTag(fixture, 'pip');
      await docker('tag', original, reference);
      await pipInstalled(original, project(NEW), reference);

      const dir = project(NEW);
      const r = await nfhot(['patch', dir, '--image', original, '--json']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/loading the layer \(\d+ files, [\d.]+ [kM]B\)/);
      expect(r.stderr).not.toMatch(/pip installed it|\$ pip install/);
      expect((await rawInspect(original)).RootFS.Layers.length).toBe(
        (await rawInspect(reference)).RootFS.Layers.length,
      );

      const [layered, pipped] = await Promise.all([listing(original), listing(reference)]);
      const differs = Object.keys({ ...layered, ...pipped }).filter(
        (k) => JSON.stringify(layered[k]) !== JSON.stringify(pipped[k]),
      );
      expect(differs.map((k) => [k, layered[k], pipped[k]])).toEqual([]);
      expect(Object.keys(layered).some((k) => k.endsWith('greet/extra.py'))).toBe(true);
      expect(
        Object.entries(layered)
          .filter(([k]) => k.includes('greet/__pycache__/extra.'))
          .map(([, v]) => v.at(-1)),
      ).toEqual([true]);
      expect(
        Object.keys(layered).some((k) => /greet\/(old\.py|sub)$|greet-old$|greet-1\.5\.0\.dist-info$/.test(k)),
      ).toBe(false);

      // What a task runs, as another uid: the new code and its data, through the new console script.
      const script =
        'import os, subprocess, sysconfig; subprocess.run([os.path.join(sysconfig.get_path("scripts"), "greet-new")], check=True)';
      expect(await docker('run', '--rm', '-u', '4321:4321', '--entrypoint', 'python3', original, '-c', script)).toBe(
        'new word',
      );
    });
  }
});
