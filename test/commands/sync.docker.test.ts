// Incremental patches against the real daemon: after a full install of a working copy, edits of
// files the install copies as they are become one layer written without a container; anything
// else falls back to the full install. The result must be what a full install of the same tree gives.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { docker, fixtureTag, rawInspect } from '../helpers/docker.js';
import { git, tempDir } from '../helpers/repos.js';

/** A working copy of a package with modules, a subpackage, package data, an empty module and a console script. */
async function workingCopy() {
  const dir = join(tempDir(), 'greet');
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  const pyproject = (description: string) =>
    write(
      'pyproject.toml',
      `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "greet"\nversion = "2.0.0"\ndescription = "${description}"\n\n[project.scripts]\ngreet = "greet.cli:main"\n\n[tool.setuptools.package-data]\ngreet = ["data/*.txt"]\n`,
    );
  pyproject('one');
  write('src/greet/__init__.py', '__version__ = "2.0.0"\n');
  write(
    'src/greet/core.py',
    'from importlib.resources import files\n\n\ndef message():\n    return "hello " + files("greet").joinpath("data/word.txt").read_text().strip()\n',
  );
  write('src/greet/cli.py', 'from greet.core import message\n\n\ndef main():\n    print(message())\n');
  write('src/greet/data/word.txt', 'world\n');
  write('src/greet/sub/__init__.py', '');
  write('src/greet/sub/empty.py', '');
  await git(dir, 'init', '-q', '-b', 'main');
  return { dir, write, pyproject, remove: (path: string) => rmSync(join(dir, path)) };
}

/** What a task sees of the installed package, as another uid: each file (not bytecode) with its hash, mode and owner; whether RECORD is true; the command's output. */
const LOOK = `
import hashlib, json, os, subprocess, sys
from importlib import metadata
d = metadata.distribution("greet")
files, record_ok = {}, True
for f in d.files:
    p = str(f.locate())
    if "__pycache__" in str(f):
        continue
    if f.hash and os.path.exists(p):
        data = open(p, "rb").read()
        record_ok &= f.hash.value == __import__("base64").urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode() and f.size == len(data)
    if str(f).startswith("greet/") or str(f).endswith("/bin/greet"):
        st = os.stat(p)
        files[str(f)] = [hashlib.sha256(open(p, "rb").read()).hexdigest()[:12], oct(st.st_mode), st.st_uid, st.st_gid]
site = os.path.dirname(str(d.locate_file("greet")))
out = subprocess.run(["greet"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode().strip()
print(json.dumps({"version": d.version, "files": files, "record": record_ok, "greet": out, "dirs": [oct(os.stat(p).st_mode) + ":%d:%d" % (os.stat(p).st_uid, os.stat(p).st_gid) for p in (site, site + "/greet", site + "/greet/data")]}))
`;

async function look(
  image: string,
): Promise<{ version: string; files: Record<string, unknown>; record: boolean; greet: string; dirs: string[] }> {
  return JSON.parse(await docker('run', '--rm', '-u', '4321:4321', image, 'python3', '-c', LOOK)) as never;
}

async function patch(dir: string, image: string): Promise<{ action: string; derivative: string; stderr: string }> {
  const r = await nfhot(['patch', dir, '--image', image, '--json']);
  if (r.exitCode !== 0) throw new Error(`nfhot patch failed: ${r.stderr}`);
  const result = JSON.parse(r.stdout) as { images: { action: string; derivative: string }[] };
  return { ...result.images[0]!, stderr: r.stderr };
}

describe('incremental patches (sync)', () => {
  for (const fixture of ['venv', 'jupyter-pip']) {
    it(`${fixture}: an edit sequence gives what a fresh full install of the same tree gives; each other change falls back to the install`, async () => {
      const image = await fixtureTag(fixture);
      const originalLayers = (await rawInspect(image)).RootFS.Layers.length;
      const wc = await workingCopy();
      expect((await patch(wc.dir, image)).action).toBe('built');

      // A module: synced, live for another uid through the console script.
      wc.write(
        'src/greet/core.py',
        'from importlib.resources import files\n\n\ndef message():\n    return "HELLO " + files("greet").joinpath("data/word.txt").read_text().strip()\n',
      );
      let step = await patch(wc.dir, image);
      expect(step.action).toBe('synced');
      expect(step.stderr).toMatch(/only files the install copies as they are changed \(src\/greet\/core\.py\)/);
      expect((await look(image)).greet).toBe('HELLO world');

      // Package data, and an empty module, beside the module edited before: one layer still.
      wc.write('src/greet/data/word.txt', 'there\n');
      wc.write('src/greet/sub/empty.py', 'X = 1\n');
      step = await patch(wc.dir, image);
      expect(step.action).toBe('synced');
      expect((await look(image)).greet).toBe('HELLO there');
      expect((await rawInspect(image)).RootFS.Layers.length).toBe(originalLayers + 2);
      expect((await rawInspect(step.derivative)).Id).toBe((await rawInspect(image)).Id);

      // Each of these needs the build: the install runs, and the next edit syncs over it.
      const fallbacks: [string, () => void, RegExp][] = [
        ['a new module', () => wc.write('src/greet/extra.py', 'Y = 2\n'), /src\/greet\/extra\.py is new/],
        ['pyproject.toml', () => wc.pyproject('two'), /pyproject\.toml changed \(the build reads it\)/],
        ['a removed module', () => wc.remove('src/greet/extra.py'), /src\/greet\/extra\.py was removed/],
      ];
      for (const [what, change, reason] of fallbacks) {
        change();
        step = await patch(wc.dir, image);
        expect(step.action, what).toBe('built');
        expect(step.stderr, what).toMatch(reason);
        wc.write(
          'src/greet/cli.py',
          `from greet.core import message\n\n\ndef main():\n    print(message(), ${JSON.stringify(what)})\n`,
        );
        step = await patch(wc.dir, image);
        expect(step.action, `an edit after ${what}`).toBe('synced');
        expect((await look(image)).greet).toBe(`HELLO there ${what}`);
      }

      // The same tree installed afresh into another copy of the original image.
      const fresh = await fixtureTag(fixture, 'fresh');
      expect((await patch(wc.dir, fresh)).action).toBe('built');
      const [synced, full] = await Promise.all([look(image), look(fresh)]);
      expect(synced.record).toBe(true);
      expect(synced).toEqual(full);
      expect((await rawInspect(image)).RootFS.Layers.length).toBe(originalLayers + 2);

      expect((await nfhot(['rollback', image])).exitCode).toBe(0);
    });
  }
});
