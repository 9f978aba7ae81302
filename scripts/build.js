// Bundles the CLI into dist/ (one entry, one chunk per command): Node starts nfhot in a fraction
// of the time it takes to resolve and load hundreds of separate modules (see the README).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true }); // no chunk of an earlier build left behind

const stub = new URL('../src/stubs/unavailable.cjs', import.meta.url).pathname;
await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  minify: true,
  legalComments: 'linked',
  // Bundled CommonJS modules call require(); ESM has none of its own.
  banner: { js: "import { createRequire as __nfhotRequire } from 'node:module'; const require = __nfhotRequire(import.meta.url);" },
  alias: { ssh2: stub, '@grpc/grpc-js': stub, '@grpc/proto-loader': stub },
  logLevel: 'warning',
});
