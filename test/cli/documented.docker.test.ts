// Every command line the README, docs/ and `--help` show, run as written: none may be a usage error.
// They run in a copy of the example pipeline, beside the directories they name, against a Docker
// daemon that does not answer (so nothing changes) and with git limited to local repositories:
// a line that parses fails at the daemon (exit 1) or succeeds, never exit 2.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { tempDir } from '../helpers/repos.js';

/** Words of a shell line, quotes removed ('…' and "…") and redirections (`> FILE`) left out, as far as these lines need. */
function words(line: string): string[] {
  return [...line.replace(/\s+\d?>>?\s*\S+/g, '').matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map(
    (m) => m[1] ?? m[2] ?? m[3]!,
  );
}

/** The nfhot command lines of a Markdown text's code blocks: each command of a line (after `|`, `&&`, `;`) that starts with nfhot (or npx nfhot). */
function readmeLines(markdown: string): string[][] {
  const lines: string[][] = [];
  for (const block of markdown.matchAll(/^```[a-z]*\n([\s\S]*?)^```/gm)) {
    const text = block[1]!.replace(/\\\n\s*/g, ' ');
    for (const raw of text.split('\n')) {
      const line = raw.replace(/^\$ /, '').replace(/\s+#\s.*$/, '');
      for (const command of line.split(/\s*(?:\|\||&&|\||;)\s*/)) {
        const w = words(command);
        const at = w[0] === 'npx' ? (w[1] === '--package' ? 3 : 1) : 0;
        if (w[at] === 'nfhot') lines.push(w.slice(at + 1));
      }
    }
  }
  return lines;
}

/** A command's `--help` examples (`nfhot patch ./pkg  description`). */
function helpExamples(help: string): string[][] {
  const section = help.split(/^Examples:$/m)[1] ?? '';
  return section
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/)[0]!)
    .filter((l) => l.startsWith('nfhot '))
    .map((l) => words(l).slice(1));
}

const COMMANDS = [
  'patch',
  'watch',
  'rollback',
  'push',
  'status',
  'config',
  'rerun',
  'shell',
  'diff',
  'export',
  'shim',
  'resolve',
  'plugin',
];

/** Each option of a command's --help with a value of its kind, after the command's required arguments. */
function optionLines(command: string, help: string): string[][] {
  const positional: Record<string, string[]> = {
    patch: ['../mypkg'],
    watch: ['../mypkg'],
    rerun: ['work/5a/d97123a9c1cb2400d893fee4c4ffda'],
    diff: ['org/tool:dev'],
    rollback: ['org/tool:dev'],
    export: ['org/tool:dev'],
    resolve: ['org/tool:dev'],
    push: ['--to', '127.0.0.1:5000'],
    plugin: ['status'],
  };
  const lines: string[][] = [];
  const options = (help.split(/^Options:$/m)[1] ?? '').split(/^Examples:$/m)[0]!;
  // An option's entry runs from its flag to the next flag; its type (or choices) may be on a line of its own.
  for (const entry of options.split(/\n(?=\s+(?:-\w, )?--)/)) {
    const flag = /^\s+(?:-\w, )?(--[a-z][a-z-]*)/.exec(entry)?.[1];
    if (!flag || flag === '--help' || flag === '--version') continue;
    const choice = /\[choices: "([^"]+)"/.exec(entry)?.[1];
    const boolean = /\[boolean\]/.test(entry);
    const value =
      choice ??
      {
        '--to': '127.0.0.1:5000',
        '--push': '127.0.0.1:5000',
        '--python': '/usr/bin/python3',
        '--profile': 'docker',
        '--pipeline': '.',
        '--sdist': 'sdist',
        '--repo': 'file:///nonexistent/repo.git',
        '--nxf-home': '~/.nextflow',
        '--param': 'aligner=hisat2',
        '--params-file': 'params.yml',
        '--config': 'site.config',
      }[flag] ??
      'org/tool:dev';
    // --repo goes with NAME@REF, --all instead of image names.
    const base =
      flag === '--repo'
        ? [command, 'mypkg@main']
        : flag === '--all'
          ? [command]
          : [command, ...(positional[command] ?? [])];
    lines.push([...base, flag, ...(boolean ? [] : [value])]);
  }
  return lines;
}

/**
 * A pipeline to run them in, a home directory for `~/`, and what they name: package directories
 * beside the pipeline, pipelines named by --pipeline. Returns the pipeline, the home and the lines
 * with `~/` made that home's.
 */
function sandbox(lines: string[][]): { cwd: string; home: string; lines: string[][] } {
  const root = tempDir();
  const home = join(root, 'home');
  const pipeline = join(root, 'pipeline');
  // The lines name the profiles of the pipelines they were written for (nf-core's `wave`, `conda`): the copies define them, empty,
  // since nfhot refuses a profile the pipeline does not define, as Nextflow does.
  const named = [...new Set(lines.flatMap((l) => l.flatMap((a, i) => (l[i - 1] === '--profile' ? a.split(',') : []))))];
  const copy = (to: string) => {
    cpSync('examples', to, { recursive: true, filter: (p) => !/\/(work|seqstats)$/.test(p) });
    const config = join(to, 'nextflow.config');
    const text = readFileSync(config, 'utf8');
    const missing = named.filter((p) => !new RegExp(`^\\s+${p}\\s*\\{`, 'm').test(text));
    if (missing.length) writeFileSync(config, `profiles {\n${missing.map((p) => `    ${p} { }\n`).join('')}}\n${text}`);
    // What --params-file and -c name.
    writeFileSync(join(to, 'params.yml'), 'outdir: results\n');
    writeFileSync(join(to, 'site.config'), "process.executor = 'slurm'\n");
  };
  copy(pipeline);
  const expanded = lines.map((l) => l.map((a) => a.replace(/^~\//, `${home}/`)));
  for (const line of expanded) {
    for (const [i, arg] of line.entries()) {
      const dir = resolve(pipeline, arg);
      if (
        !dir.startsWith(root) ||
        existsSync(dir) ||
        arg.endsWith('.tgz') ||
        !(/^\.{1,2}\//.test(arg) || arg.startsWith(home))
      )
        continue;
      if (line[i - 1] === '--pipeline') copy(dir);
      else {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'pyproject.toml'), '[project]\nname = "mypkg"\nversion = "1.0"\n');
      }
    }
  }
  return { cwd: pipeline, home, lines: expanded };
}

describe('the command lines the README, docs/ and --help show', () => {
  it('are all accepted as written: none exits with a usage error', async () => {
    const helps = await Promise.all(COMMANDS.map(async (c) => [c, (await nfhot([c, '--help'])).stdout] as const));
    const lines = [
      ...[
        'README.md',
        ...readdirSync('docs')
          .filter((f) => f.endsWith('.md'))
          .map((f) => join('docs', f)),
      ].flatMap((f) => readmeLines(readFileSync(f, 'utf8'))),
      ...helps.flatMap(([, help]) => helpExamples(help)),
      ...helps.flatMap(([c, help]) => optionLines(c, help)),
    ];
    // Enough to mean something: the README's own lines and every command's options.
    expect(lines.length).toBeGreaterThan(60);
    expect(lines).toContainEqual(['patch', '../mypkg', '--no-deps']);
    const { cwd, home, lines: expanded } = sandbox(lines);
    // Nextflow's plugins directory: the sandbox home's, whatever this machine's environment says.
    const env = {
      HOME: home,
      NXF_HOME: join(home, '.nextflow'),
      NXF_PLUGINS_DIR: '',
      DOCKER_HOST: 'tcp://127.0.0.1:1',
      CONTAINER_HOST: 'tcp://127.0.0.1:1',
      GIT_ALLOW_PROTOCOL: 'file',
      NFHOT_CACHE: tempDir(),
      NFHOT_STATE: tempDir(),
    };
    const usage: string[] = [];
    for (const args of expanded) {
      const result = await nfhot(args, { cwd, env, input: '', timeout: 60_000 });
      if (result.exitCode === 2 || result.exitCode === undefined)
        usage.push(
          `nfhot ${args.join(' ')} → exit ${result.exitCode}: ${result.stderr.split('\n').find((l) => l.startsWith('nfhot: error:')) ?? result.stderr.slice(-300)}`,
        );
    }
    expect(usage).toEqual([]);
  }, 600_000);
});
