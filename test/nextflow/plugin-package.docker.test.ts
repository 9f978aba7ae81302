// nf-hot as a user gets it: the npm package packed and installed with npm (no Maven, no JDK, no
// source tree), its `nfhot plugin install|status|uninstall` in the plugins directory Nextflow
// reads (--nxf-home, NXF_PLUGINS_DIR, NXF_HOME), and the real Nextflow loading what it installed.
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanupRepo } from '../helpers/docker.js';
import {
  EXAMPLE,
  exampleImages,
  buildExampleImage,
  copyPipeline,
  definitions,
  inspect,
  NEXTFLOW_VERSION,
  nextflowOnPath,
  PLUGIN,
  seqstatsRepo,
  warnings,
} from '../helpers/nextflow.js';
import { tempDir } from '../helpers/repos.js';
import { BASE } from '../fixtures/images.mjs';

const PREFIX = `nfhot-test-${randomBytes(5).toString('hex')}`;
const { SEQSTATS, COREUTILS } = exampleImages(PREFIX);
const { GC, UPPER, VERSION, LINES } = EXAMPLE;

interface Status {
  dir: string;
  spec: string;
  shipped: boolean;
  installed: { version: string; path: string; current: boolean }[];
  nextflow: { version?: string; syntax: string; why: string; requires: string; supported?: boolean };
}

describe('nf-hot from the npm package', () => {
  let bin = '';
  beforeAll(async () => {
    // As published (the build already ran: no scripts), and as installed from it (offline: the package has no dependencies to fetch).
    const packed = tempDir();
    await execa('npm', ['pack', '--ignore-scripts', '--pack-destination', packed]);
    const [tgz] = readdirSync(packed).filter((f) => f.endsWith('.tgz'));
    const prefix = tempDir();
    await execa('npm', [
      'install',
      '--global',
      '--offline',
      '--no-audit',
      '--no-fund',
      '--prefix',
      prefix,
      join(packed, tgz!),
    ]);
    bin = join(prefix, 'bin', 'nfhot');
    await buildExampleImage(SEQSTATS, BASE);
    await execa('docker', ['tag', BASE, COREUTILS]);
    return () => cleanupRepo(`quay.io/${PREFIX}`);
  }, 300_000);

  const installed = (args: string[], env: Record<string, string> = {}) =>
    execa(bin, args, { reject: false, cwd: tempDir(), env: { NXF_HOME: '', NXF_PLUGINS_DIR: '', ...env } });
  const status = async (args: string[], env: Record<string, string> = {}) =>
    JSON.parse((await installed(['plugin', 'status', '--json', ...args], env)).stdout) as Status;

  it('installs into the plugins directory Nextflow reads, says whether what is there is its own, and uninstalls', async () => {
    const home = tempDir();
    // Where: --nxf-home, else NXF_PLUGINS_DIR, else $NXF_HOME/plugins.
    expect((await status([], { NXF_HOME: home })).dir).toBe(join(home, 'plugins'));
    expect((await status([], { NXF_HOME: home, NXF_PLUGINS_DIR: join(home, 'elsewhere') })).dir).toBe(
      join(home, 'elsewhere'),
    );
    expect((await status(['--nxf-home', join(home, 'given')], { NXF_PLUGINS_DIR: join(home, 'elsewhere') })).dir).toBe(
      join(home, 'given', 'plugins'),
    );

    const none = await status([], { NXF_HOME: home });
    expect(none).toMatchObject({ spec: PLUGIN, shipped: true, installed: [] });
    const install = await installed(['plugin', 'install'], { NXF_HOME: home });
    expect(install.exitCode, install.stderr).toBe(0);
    expect(install.stdout.split('\n').at(-1)).toBe(PLUGIN);
    const path = join(home, 'plugins', PLUGIN.replace('@', '-'));
    expect(statSync(join(path, 'classes', 'META-INF', 'MANIFEST.MF')).isFile()).toBe(true);
    expect((await status([], { NXF_HOME: home })).installed).toEqual([
      { version: PLUGIN.split('@')[1], path, current: true },
    ]);
    const said = (await installed(['plugin', 'status'], { NXF_HOME: home })).stdout.split('\n');
    expect(said[0]).toBe(`nf-hot ${PLUGIN.split('@')[1]} in ${path}: this nfhot's`);
    expect(said[1]).toMatch(
      /^nf-hot needs Nextflow >=24\.10\.0 \(run with 24\.10\.6 and 25\.04\.4; .*\); no nextflow on PATH$/,
    );
    // The Nextflow it targets: the one on PATH, its version and parser, and whether nf-hot loads on it.
    const target = await installed(['plugin', 'status'], { NXF_HOME: home, PATH: nextflowOnPath() });
    expect(target.stdout).toContain(`the nextflow on PATH is ${NEXTFLOW_VERSION} (`);
    expect(target.stdout).toMatch(/: nf-hot loads on it$/);
    expect((await status([], { NXF_HOME: home, PATH: nextflowOnPath(), NXF_SYNTAX_PARSER: 'v2' })).nextflow).toEqual({
      version: NEXTFLOW_VERSION,
      syntax: 'v2',
      why: 'NXF_SYNTAX_PARSER=v2',
      requires: '>=24.10.0',
      supported: true,
    });

    // Changed where it is installed: no longer this nfhot's; installed again, it is.
    appendFileSync(join(path, 'classes', 'META-INF', 'MANIFEST.MF'), 'X-Changed: yes\n');
    expect((await status([], { NXF_HOME: home })).installed[0]!.current).toBe(false);
    expect((await installed(['plugin', 'status'], { NXF_HOME: home })).stdout).toContain(
      `not this nfhot's (${PLUGIN}): nfhot plugin install`,
    );
    const again = await installed(['plugin', 'install'], { NXF_HOME: home });
    expect(again.stderr).toContain(`replaced ${PLUGIN} in ${path}`);
    expect((await status([], { NXF_HOME: home })).installed[0]!.current).toBe(true);
    expect(readdirSync(join(home, 'plugins'))).toEqual([PLUGIN.replace('@', '-')]); // nothing half-written left beside it

    const uninstall = await installed(['plugin', 'uninstall'], { NXF_HOME: home });
    expect(uninstall.stderr).toBe(`nfhot: removed ${path}`);
    expect(existsSync(path)).toBe(false);
    expect((await status([], { NXF_HOME: home })).installed).toEqual([]);
  });

  it("the real Nextflow loads the installed plugin, and the patch the package's nfhot made is what the patched processes run", async () => {
    const home = tempDir();
    expect((await installed(['plugin', 'install', '--nxf-home', home])).exitCode).toBe(0);
    const patched = await installed(['patch', `git+file://${await seqstatsRepo()}@fix-lowercase`, '--image', SEQSTATS]);
    expect(patched.exitCode, patched.stderr).toBe(0);
    const fix = patched.stdout.trim();
    try {
      const dir = copyPipeline('examples', { 'biocontainers/': `${PREFIX}/` }, { untouched: true });
      const routed = await inspect(dir, ['-profile', 'docker'], { NXF_HOME: home });
      expect(routed.containers).toEqual(definitions({ [LINES]: COREUTILS, [GC]: fix, [UPPER]: fix, [VERSION]: fix }));
      expect(routed.log).toContain(`Plugin started ${PLUGIN}`);
      expect(warnings(routed.log)).toEqual([]);
    } finally {
      expect((await installed(['rollback', SEQSTATS])).exitCode).toBe(0);
    }
  });
});
