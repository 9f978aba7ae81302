#!/usr/bin/env node
// Answers --version before loading anything else: start-up time is part of every call.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  process.stdout.write(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version + '\n');
} else {
  const { main } = await import('../dist/cli.js');
  const code = await main(args);
  // Exit once stdout and stderr are drained: a pipe may still hold the end of a large JSON document.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
