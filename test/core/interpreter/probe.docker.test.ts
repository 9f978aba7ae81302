// The probe against real images: an environment found only by its files, and an entrypoint that
// does not run the probe.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { probePy, probeSh } from '../../../src/core/base/assets.js';
import { holderLabels, throwawayName } from '../../../src/core/image/lock.js';
import { probeImage } from '../../../src/core/interpreter/probe.js';
import { parseProbe } from '../../../src/core/interpreter/python.js';
import { testContext } from '../../helpers/context.js';
import { fixtureTag } from '../../helpers/docker.js';

describe('the probe', () => {
  it("finds an environment that is on no PATH and in no usual place by its package's files", async () => {
    const { engine } = testContext();
    const image = await fixtureTag('pixi-egginfo');
    // As when the entrypoint cannot run it: without it, as root.
    const result = await engine.run(image, ['/bin/sh', '-c', probeSh(), 'nfhot-probe', 'greet', '', probePy()], {
      name: throwawayName('probe'),
      labels: holderLabels(),
      user: '0',
    });
    const envs = parseProbe(result.stdout).envs;
    expect(envs.find((e) => e.dist)).toMatchObject({
      path: '/opt/wave/.pixi/envs/default/bin/python3.11',
      how: 'search',
      prefix: '/opt/wave/.pixi/envs/default',
      pip: null,
      pipWheel: '/opt/wave/.pixi/envs/default/lib/python3.11/ensurepip/_bundled/pip-23.0.1-py3-none-any.whl',
      dist: { name: 'greet', version: '1.0.0' },
    });
    expect(envs[0]).toMatchObject({ path: '/usr/bin/python3', how: 'PATH', dist: null });
  });

  it('probes without the entrypoint when the entrypoint does not run the probe', async () => {
    const { engine } = testContext();
    const base = await fixtureTag('venv');
    const image = `${base.split(':')[0]}:tool-entrypoint`;
    await execa('docker', ['build', '-q', '-t', image, '-'], { input: `FROM ${base}\nENTRYPOINT ["greet"]\n` });
    const info = (await engine.inspectImage(image))!;
    const envs = await probeImage(engine, info, image, 'greet', undefined);
    expect(envs.find((e) => e.dist)).toMatchObject({
      path: '/opt/venv/bin/python3',
      how: 'PATH',
      dist: { version: '1.0.0' },
    });
  });
});
