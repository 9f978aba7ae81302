// Bundles the CLI into dist/ (one entry, one chunk per command): Node starts nfhot in a fraction
// of the time it takes to resolve and load hundreds of separate modules (see docs/development.md).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import glob from 'fast-glob';

rmSync('dist', { recursive: true, force: true }); // no chunk of an earlier build left behind

const stub = new URL('../src/stubs/unavailable.cjs', import.meta.url).pathname;
await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  minify: true,
  legalComments: 'linked',
  // Bundled CommonJS modules call require(); ESM has none of its own.
  banner: {
    js: "import { createRequire as __nfhotRequire } from 'node:module'; const require = __nfhotRequire(import.meta.url);",
  },
  alias: { ssh2: stub, '@grpc/grpc-js': stub, '@grpc/proto-loader': stub, protobufjs: stub },
  logLevel: 'warning',
});

// nfhot.pyz, the zipapp nfhot runs under an image's Python (src/python/__main__.py and the package
// nfhot_install): one file sent into the work container. Entries in name order, dated 1980: the
// same sources make the same bytes.
function zip(files) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const [name, content] of files) {
    const data = deflateRawSync(content, { level: 9 });
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4); // version needed
    head.writeUInt16LE(8, 8); // deflate
    head.writeUInt16LE(0x21, 12); // 1980-01-01
    head.writeUInt32LE(crc32(content), 14);
    head.writeUInt32LE(data.length, 18);
    head.writeUInt32LE(content.length, 22);
    head.writeUInt16LE(Buffer.byteLength(name), 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4); // made by
    head.copy(entry, 6, 4, 30); // version needed … name length
    entry.writeUInt32LE(offset, 42);
    locals.push(head, Buffer.from(name), data);
    central.push(entry, Buffer.from(name));
    offset += head.length + Buffer.byteLength(name) + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
const app = ['__main__.py', ...(await glob('nfhot_install/*.py', { cwd: 'src/python' }))].sort();
writeFileSync(join('dist', 'nfhot.pyz'), zip(app.map((f) => [f, readFileSync(join('src/python', f))])));

// nf-hot, the Nextflow plugin (nextflow/plugin): compiled and tested (its JUnit tests) with Maven
// when a JDK and Maven are here and its sources changed since the last build, then laid out as Nextflow loads a plugin
// offline, dist/plugin/nf-hot-VERSION/classes/ with its manifest. Without them, dist has no plugin.
const { version, nfhot } = JSON.parse(readFileSync('package.json', 'utf8'));
const project = 'nextflow/plugin';
const classes = join(project, 'target', 'classes');
const stamp = join(project, 'target', 'nfhot-build');
// Its JUnit tests read the cases it shares with the core (test/shared): a change there tests it again.
const sources = ['pom.xml', ...(await glob('src/**', { cwd: project })), '../../test/shared/plugin-cases.json'].sort();
const hash = createHash('sha256').update(version);
for (const f of sources) hash.update(f).update(readFileSync(join(project, f)));
const digest = hash.digest('hex');
const fresh = existsSync(classes) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest;
const has = (tool) => spawnSync(tool, ['-version'], { stdio: 'ignore' }).status === 0;
if (!fresh && has('mvn') && has('javac')) {
  rmSync(stamp, { force: true });
  const built = spawnSync('mvn', ['-B', '-f', join(project, 'pom.xml'), `-Drevision=${version}`, 'clean', 'test'], {
    encoding: 'utf8',
  });
  if (built.status !== 0)
    throw new Error(`the Nextflow plugin did not build (mvn exit ${built.status}):\n${built.stdout}${built.stderr}`);
  writeFileSync(stamp, digest);
} else if (!fresh) {
  console.warn(
    `build: no JDK or Maven here, and ${project} is not built: dist has no Nextflow plugin (nfhot plugin install needs one)`,
  );
}
if (existsSync(stamp)) {
  const plugin = join('dist', 'plugin', `nf-hot-${version}`, 'classes');
  cpSync(classes, plugin, { recursive: true });
  // pf4j reads a loose manifest (not one inside a jar); Plugin-Requires (package.json's nfhot.pluginRequires) is
  // checked at start. No upper bound: a Nextflow above it would abort every run that names the plugin.
  const manifest = [
    'Manifest-Version: 1.0',
    'Plugin-Id: nf-hot',
    `Plugin-Version: ${version}`,
    'Plugin-Class: nfhot.HotPlugin',
    'Plugin-Provider: nfhot',
    `Plugin-Requires: ${nfhot.pluginRequires}`,
  ];
  writeFileSync(join(plugin, 'META-INF', 'MANIFEST.MF'), `${manifest.join('\n')}\n`);
}
