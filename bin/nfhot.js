#!/usr/bin/env node
// Answers --version before loading anything else: start-up time is part of every call.
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else if (!existsSync(new URL('../dist/cli.js', import.meta.url))) {
  // A checkout installed as it is (npm install -g . links it): the bundle is built by npm run build.
  const root = new URL('..', import.meta.url).pathname;
  process.stderr.write(
    `nfhot: error: nfhot is not built in ${root}\n  hint: build it once: cd ${root} && npm ci && npm run build\n`,
  );
  process.exit(1);
} else {
  const { main } = await import('../dist/cli.js');
  // Should nfhot ever wait on something that can no longer happen, Node would end with 0: say so and fail.
  const stalled = () => {
    process.stderr.write('nfhot: internal error: nfhot stopped waiting before the command was done\n');
    process.exitCode = 70;
  };
  process.once('beforeExit', stalled);
  const code = await main(args);
  process.off('beforeExit', stalled);
  // Exit once stdout and stderr are drained: a pipe may still hold the end of a large JSON document.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
