#!/usr/bin/env node
/**
 * The `neuralode` command-line tool. See program.ts for the commands and exit codes.
 */
import { enableRelaxedSimd } from './wasm-flags.js';

// Before any kernel module is compiled (the imports below compile the tensor kernels when they load).
enableRelaxedSimd();
const { registerBuiltinExperiments } = await import('./builtin.js');
const { runCli } = await import('./program.js');

runCli(process.argv, { registry: registerBuiltinExperiments() }).then(
  (code) => {
    // exitCode rather than exit(): lets stdout drain when it is a pipe.
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `neuralode: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
