// tsc compiles TypeScript only; the scripts nfhot runs inside images ship beside it.
import { cpSync, readdirSync } from 'node:fs';

for (const file of readdirSync('src/python')) {
  if (!file.endsWith('.ts')) cpSync(`src/python/${file}`, `dist/python/${file}`);
}
