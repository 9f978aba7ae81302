// Run by the `podman` project: DOCKER_HOST is Podman's API service (test/setup/podman.ts), which
// nfhot finds to be Podman by itself.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { docker, exists, fixtureTag, imageId, rawInspect, runIn } from '../helpers/docker.js';
import { writePipeline } from '../helpers/pipeline.js';
import { greetRepo, setVariant, tempDir } from '../helpers/repos.js';
import { writeTask } from '../helpers/nextflow-task.js';

describe('nfhot on Podman', () => {
  it('re-points the name Podman runs for a short name (localhost/…, as the podman CLI names images), and rolls back', async () => {
    const fixture = await fixtureTag('venv');
    const short = `${fixture.split('/')[0]}-local/venv:dev`;
    await docker('tag', fixture, `localhost/${short}`); // as `podman build -t SHORT` would name it
    onTestFinished(() =>
      docker('rmi', `localhost/${short}`).then(
        () => undefined,
        () => undefined,
      ),
    );
    const originalId = await imageId(short);
    const repo = await greetRepo();

    const patched = await nfhot(['patch', `git+${repo.url}@feature`, '--image', short]);
    expect(patched.exitCode, patched.stderr).toBe(0);
    const derivative = patched.stdout.trim();
    onTestFinished(() =>
      docker('rmi', derivative).then(
        () => undefined,
        () => undefined,
      ),
    );
    expect(await runIn(short, 'greet')).toBe('greet 1.1.0 feature');
    // The same name, not a second one beside it under docker.io (which `podman run SHORT` would not run).
    expect((await rawInspect(short)).Id).toBe(await imageId(derivative));
    expect(JSON.parse(await docker('image', 'inspect', '--format', '{{json .RepoTags}}', short))).toContain(
      `localhost/${short}`,
    );
    expect(await exists(`docker.io/${short}`)).toBe(false);

    // --engine podman finds the service at CONTAINER_HOST.
    const status = await nfhot(['status', '--json', '--engine', 'podman'], {
      env: { DOCKER_HOST: undefined, CONTAINER_HOST: process.env.DOCKER_HOST },
    });
    expect(status.exitCode, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).images.find((s: { image: string }) => s.image === short)).toMatchObject({
      state: 'patched',
      originalId,
      derivative,
    });

    const back = await nfhot(['rollback', short]);
    expect(back.exitCode, back.stderr).toBe(0);
    expect(await imageId(short)).toBe(originalId);
    expect(await exists(derivative)).toBe(false);
  });

  it('installs each change of a working copy in a container (Podman writes no layer without one), and says so', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    const first = await nfhot(['patch', repo.dir, '--image', image]);
    expect(first.exitCode, first.stderr).toBe(0);
    setVariant(repo.dir, 'edited', '1.0.0');
    const again = await nfhot(['patch', repo.dir, '--image', image, '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).images[0].action).toBe('built');
    expect(again.stderr).toContain('full install: this engine cannot write a layer without a container (Podman)');
    expect(await runIn(image, 'greet')).toBe('greet 1.0.0 edited');
    expect((await nfhot(['rollback', image])).exitCode).toBe(0);
  });

  it('pushes, records where by the registry digest, pins the include on it; the pushed reference pulls back and runs', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    const pipeline = writePipeline({ GREET: image });
    const registry = inject('podman').registry;

    const result = await nfhot([
      'patch',
      `git+${repo.url}@feature`,
      '--pipeline',
      pipeline,
      '--push',
      `${registry}/team`,
      '--json',
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    const [pushed] = JSON.parse(result.stdout).pushed as { reference: string }[];
    const [name, digest] = pushed!.reference.split('@');
    expect(name).toBe(`${registry}/team/${image.split(':')[0]}`);
    // The digest is the registry's (Podman's local digests differ from what it uploads).
    const manifest = await fetch(`http://${registry}/v2/${name!.slice(registry.length + 1)}/manifests/${digest}`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('docker-content-digest')).toBe(digest);
    expect(readFileSync(join(pipeline, 'nfhot.config'), 'utf8')).toContain(`'${pushed!.reference}'`);
    const status = JSON.parse((await nfhot(['status', '--json'])).stdout).images.find(
      (s: { image: string }) => s.image === image,
    );
    expect(status.pushed).toEqual([pushed!.reference]);

    const rollback = await nfhot(['rollback', image, '--pipeline', pipeline]);
    expect(rollback.exitCode, rollback.stderr).toBe(0);
    for (const ref of [pushed!.reference, `${name}:${status.derivative.split(':').at(-1)}`])
      await docker('rmi', ref).catch(() => undefined);
    expect(await exists(pushed!.reference)).toBe(false);
    await docker('pull', pushed!.reference);
    onTestFinished(() =>
      docker('rmi', pushed!.reference).then(
        () => undefined,
        () => undefined,
      ),
    );
    expect(await runIn(pushed!.reference, 'greet')).toBe('greet 1.1.0 feature');
  });

  it('reruns a task that Podman ran (its wrapper runs podman) with the patch', async () => {
    const [image, repo] = await Promise.all([fixtureTag('venv'), greetRepo()]);
    // podman.engineOptions point the podman CLI at the tests' own Podman service.
    const task = writeTask({
      work: join(tempDir(), 'work'),
      engine: 'podman',
      engineOptions: `--url ${process.env.DOCKER_HOST}`,
      image,
      runOptions: '-u $(id -u):$(id -g)',
      script: 'greet > greeting.txt\ngrep -q feature greeting.txt',
    });
    expect((await execa('bash', ['.command.run'], { cwd: task.dir, reject: false })).exitCode).toBe(1);
    const patched = await nfhot(['patch', `git+${repo.url}@feature`, '--image', image]);
    expect(patched.exitCode, patched.stderr).toBe(0);
    const r = await nfhot(['rerun', task.dir, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { ranIn: string; reference: string };
    expect(result.reference).toBe(patched.stdout.trim());
    expect(readFileSync(join(result.ranIn, 'greeting.txt'), 'utf8')).toBe('greet 1.1.0 feature\n');
    expect(readFileSync(join(task.dir, 'greeting.txt'), 'utf8')).toBe('greet 1.0.0 original\n');
    expect((await nfhot(['rollback', image])).exitCode).toBe(0);
  });

  it('says how to start Podman when its service does not answer', async () => {
    const result = await nfhot(['status', '--engine', 'podman'], {
      env: { CONTAINER_HOST: 'unix:///nonexistent/podman.sock' },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('nfhot: error: cannot reach Podman at unix:///nonexistent/podman.sock');
    expect(result.stderr).toContain(
      "hint: start Podman's API service: podman system service --time=0 unix:///nonexistent/podman.sock &",
    );
  });
});
