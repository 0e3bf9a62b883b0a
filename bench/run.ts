/**
 * Benchmark entry point: `npm run bench [-- <suite> ...] [--json]`.
 *
 * Each suite is a module bench/<suite>.bench.ts exporting `run(options)`. With no suite named, every suite runs.
 * `--json` makes suites print one JSON object per line instead of tables.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { enableRelaxedSimd } from '../src/cli/wasm-flags.js';

// As the command line does: fused multiply–adds in the kernels where the platform allows them.
enableRelaxedSimd();

export interface BenchOptions {
  readonly json: boolean;
  /** Arguments after the suite names, passed through (e.g. `--quick`). */
  readonly args: readonly string[];
}

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const names = argv.filter((a) => !a.startsWith('--') && available.includes(a));
const unknown = argv.filter((a) => !a.startsWith('--') && !available.includes(a));
if (unknown.length > 0) {
  console.error(
    `bench: unknown suite ${unknown.map((u) => `'${u}'`).join(', ')}; available: ${available.join(', ')}`,
  );
  process.exit(2);
}
const options: BenchOptions = { json, args: argv.filter((a) => a.startsWith('--')) };
for (const name of names.length > 0 ? names : available) {
  if (!json) console.log(`\n== ${name} ==`);
  const mod = (await import(pathToFileURL(join(here, `${name}.bench.ts`)).href)) as {
    run: (o: BenchOptions) => Promise<void> | void;
  };
  await mod.run(options);
}
