import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { patch } from '../../src/commands/patch.js';
import { status } from '../../src/commands/status.js';
import { testContext } from '../helpers/context.js';
import { docker, fixtureTag, runIn } from '../helpers/docker.js';
import { serveRepo } from '../helpers/git-http.js';
import { writePipeline } from '../helpers/pipeline.js';
import { greetRepo, tempDir } from '../helpers/repos.js';

describe('credentials in a source URL', () => {
  for (const mode of ['smart', 'dumb'] as const) {
    it(`reach neither the image nor nfhot's output (${mode} HTTP)`, async () => {
      const token = `tok${Date.now().toString(36)}SECRET`;
      const image = await fixtureTag('venv');
      const repo = await greetRepo();
      const server = await serveRepo(repo.dir, token, mode);
      const ctx = testContext();
      const pipeline = writePipeline({ GREET: image });
      const result = await patch({ source: `git+${server.url}@feature`, images: [image], pipeline }, ctx);
      expect(await runIn(image, 'greet')).toBe('greet 1.1.0 feature');

      // Every file of the saved image (layers uncompressed, config, manifest), and everything nfhot said.
      const saved = tempDir('nfhot-save-');
      await execa('sh', ['-c', `docker save ${result.images[0]!.derivative} | tar -C ${saved} -x`]);
      const grep = async (text: string) =>
        (await execa('grep', ['-rlaF', '--', text, saved], { reject: false })).stdout;
      expect(await grep('greet-1.1.0.dist-info')).not.toBe(''); // the search does see the patch layer
      expect(await grep(token)).toBe('');
      const said: Record<string, string> = {
        history: await docker('history', '--no-trunc', image),
        inspect: await docker('image', 'inspect', image),
        result: JSON.stringify(result),
        progress: ctx.lines.join(''),
        status: JSON.stringify(await status(ctx)),
        include: readFileSync(join(pipeline, 'nfhot.config'), 'utf8'),
      };
      expect(said.include).toContain(result.images[0]!.derivative);
      expect(said.inspect).toContain(`127.0.0.1:${server.port}/repo.git`);
      expect(
        Object.entries(said)
          .filter(([, text]) => text.includes(token))
          .map(([where]) => where),
      ).toEqual([]);
    });
  }

  it('are not needed in the output to say why a fetch failed', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    const server = await serveRepo(repo.dir, 'right-token');
    const wrong = server.url.replace('right-token', 'wrong-token');
    const ctx = testContext();
    const error = await patch({ source: `git+${wrong}@feature`, images: [image] }, ctx).catch((e: Error) => e);
    expect(String(error)).toMatch(/cannot fetch http:\/\/127\.0\.0\.1/);
    expect(`${String(error)} ${(error as { detail?: string }).detail} ${ctx.lines.join('')}`).not.toContain(
      'wrong-token',
    );
  });
});
