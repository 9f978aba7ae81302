import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { docker, exists, fixtureTag, imageId, rawInspect, runIn } from '../helpers/docker.js';
import { writePipeline } from '../helpers/pipeline.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addVariant, greetRepo, tempDir } from '../helpers/repos.js';

let open: TestRegistry;
let locked: TestRegistry;
beforeAll(async () => {
  [open, locked] = await Promise.all([startRegistry(), startRegistry({ auth: { user: 'ci', password: 's3cret' } })]);
});
afterAll(() => Promise.all([open?.stop(), locked?.stop()]));

/** A Docker config directory holding these `auths` (nothing when none). */
function dockerConfig(auths: Record<string, { auth: string }> = {}): string {
  const dir = tempDir('nfhot-docker-config-');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths }));
  return dir;
}

/** Our image's tags, and nfhot's references for it. */
async function tagsOf(image: string): Promise<string[]> {
  const repo = image.split(':')[0]!;
  return (await docker('images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'))
    .split('\n')
    .filter((t) => t.includes(repo))
    .sort();
}

interface Pushed {
  image: string;
  reference: string;
  uploaded: number;
  existing: number;
}

describe('nfhot push and patch --push', () => {
  it('push the derivative to a registry, pin it by digest in the include, upload only the patch layer again; it pulls back and runs', async () => {
    // An original of our own (one layer over the fixture), so that the test may delete it.
    const image = (await fixtureTag('venv')).replace(/:dev$/, ':own');
    await execa('docker', ['build', '-q', '-t', image, '-'], {
      input: `FROM ${await fixtureTag('venv')}\nRUN echo ${image} > /id\n`,
      env: { DOCKER_BUILDKIT: '0' },
    });
    const originalLayers = (await rawInspect(image)).RootFS.Layers.length;
    const repo = await greetRepo();
    await addVariant(repo, 'second', '1.2.0');
    const pipeline = writePipeline({ GREET: image });
    const to = `${open.host}/team`;

    const first = await nfhot(['patch', `git+${repo.url}@feature`, '--pipeline', pipeline, '--push', to, '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    const [pushed] = JSON.parse(first.stdout).pushed as Pushed[];
    const name = `${to}/${image.split(':')[0]}`;
    expect(pushed!.reference).toMatch(new RegExp(`^${name.replace(/[.]/g, '\\.')}@sha256:[0-9a-f]{64}$`));
    expect(pushed).toMatchObject({ image, uploaded: originalLayers + 1, existing: 0 });
    expect(first.stderr).toMatch(/layer [0-9a-f]{12}: Pushed/);
    expect(readFileSync(join(pipeline, 'nfhot.config'), 'utf8')).toContain(`'${pushed!.reference}'`);
    const status = JSON.parse((await nfhot(['status', '--json'])).stdout).images.find(
      (s: { image: string }) => s.image === image,
    );
    expect(status.pushed).toEqual([pushed!.reference]);

    // A second patch set: the registry has the original's layers, only the patch layer goes up.
    const second = await nfhot(['patch', `git+${repo.url}@second`, '--pipeline', pipeline, '--push', to, '--json']);
    expect(second.exitCode, second.stderr).toBe(0);
    const [again] = JSON.parse(second.stdout).pushed as Pushed[];
    expect(again).toMatchObject({ uploaded: 1, existing: originalLayers });
    expect(again!.reference).not.toBe(pushed!.reference);
    expect(readFileSync(join(pipeline, 'nfhot.config'), 'utf8')).toContain(`'${again!.reference}'`);

    // Nothing of it left here: a worker elsewhere pulls by the reference and runs the patch.
    const originalId = await imageId(image);
    expect((await nfhot(['rollback', image, '--pipeline', pipeline])).exitCode).toBe(0);
    expect(readFileSync(join(pipeline, 'nfhot.config'), 'utf8')).not.toContain(open.host);
    const pushedTags = (await docker('images', '--format', '{{.Repository}}:{{.Tag}}'))
      .split('\n')
      .filter((t) => t.startsWith(`${to}/`) && t.includes(image.split(':')[0]!));
    await execa('docker', ['rmi', ...pushedTags, image]);
    expect(await exists(originalId)).toBe(false);
    await docker('pull', '-q', again!.reference);
    expect(await runIn(again!.reference, 'greet')).toBe('greet 1.2.0 second');
    expect(await runIn(again!.reference, 'cat', '/id')).toBe(image);
    await docker('rmi', again!.reference);
  });

  it('use the credentials in the Docker config; a registry that refuses, or does not answer, changes nothing here', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    expect((await nfhot(['patch', `git+${repo.url}@feature`, '--image', image])).exitCode).toBe(0);
    const before = await tagsOf(image);

    const refused = await nfhot(['push', image, '--to', locked.host], { env: { DOCKER_CONFIG: dockerConfig() } });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(`^nfhot: error: cannot push ${locked.host.replace(/[.]/g, '\\.')}/.*no basic auth credentials`, 'm'),
    );
    expect(refused.stderr).toMatch(/hint: log in first \(docker login 127\.0\.0\.1:\d+\)/);
    expect(await tagsOf(image)).toEqual(before);

    const unreachable = await nfhot(['push', image, '--to', '127.0.0.1:1/team']);
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toMatch(/^nfhot: error: cannot push 127\.0\.0\.1:1\/team\/.*connection refused/m);
    expect(await tagsOf(image)).toEqual(before);

    const bad = await nfhot(['push', image, '--to', 'https://registry.example.org']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/invalid registry "https:\/\/registry\.example\.org": give it without a scheme/);

    const auth = Buffer.from('ci:s3cret').toString('base64');
    const ok = await nfhot(['push', image, '--to', locked.host, '--json'], {
      env: { DOCKER_CONFIG: dockerConfig({ [locked.host]: { auth } }) },
    });
    expect(ok.exitCode, ok.stderr).toBe(0);
    const reference = JSON.parse(ok.stdout).images[0].reference as string;
    const [name, digest] = reference.split('@');
    expect(name).toBe(`${locked.host}/${image.split(':')[0]}`);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // It is in the registry that wants the login, under that digest.
    const manifest = await fetch(
      `http://${locked.host}/v2/${name!.slice(locked.host.length + 1)}/manifests/${digest}`,
      {
        method: 'HEAD',
        headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json', Authorization: `Basic ${auth}` },
      },
    );
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('docker-content-digest')).toBe(digest);
    expect(ok.stderr + ok.stdout).not.toContain('s3cret');
  });
});
