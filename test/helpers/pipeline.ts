import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './repos.js';

/**
 * A small pipeline whose processes run the given images: one module per entry, included by the
 * entry's key as process name; `aliases` includes a module again under another name.
 */
export function writePipeline(images: Record<string, string>, aliases: Record<string, string> = {}): string {
  const dir = join(tempDir('nfhot-pipeline-'), 'pipeline');
  const includes: string[] = [];
  const calls: string[] = [];
  for (const [name, image] of Object.entries(images)) {
    const module = name.toLowerCase();
    mkdirSync(join(dir, 'modules', module), { recursive: true });
    writeFileSync(
      join(dir, 'modules', module, 'main.nf'),
      `process ${name} {\n    label 'process_single'\n    container ${image.startsWith('"') || image.startsWith('params') ? image : `'${image}'`}\n\n    input:\n    val x\n\n    script:\n    """\n    greet\n    """\n}\n`,
    );
    includes.push(`include { ${name} } from './modules/${module}'`);
    calls.push(`    ${name}(1)`);
  }
  for (const [alias, name] of Object.entries(aliases)) {
    includes.push(`include { ${name} as ${alias} } from './modules/${name.toLowerCase()}'`);
    calls.push(`    ${alias}(2)`);
  }
  writeFileSync(
    join(dir, 'main.nf'),
    `${includes.join('\n')}\n\nworkflow PIPE {\n    main:\n${calls.join('\n')}\n}\n\nworkflow {\n    PIPE()\n}\n`,
  );
  writeFileSync(
    join(dir, 'nextflow.config'),
    `profiles {\n    docker {\n        docker.enabled = true\n        docker.runOptions = '-u $(id -u):$(id -g)'\n    }\n}\n`,
  );
  return dir;
}
