/**
 * The `neuralode` command, built from the experiment registry with commander.
 *
 * ```
 * neuralode train <experiment> [options]   train (or resume) one experiment
 * neuralode --help                         commands and registered experiments
 * ```
 *
 * Exit codes: 0 success, 1 runtime failure, 2 usage error (unknown option or experiment, bad value),
 * 130/143 stopped by SIGINT/SIGTERM after saving a checkpoint.
 */
import { Command, CommanderError, Option } from 'commander';
import { RunError } from '../run/errors.js';
import type { TextSink } from '../run/progress.js';
import {
  type AnyExperiment,
  experiments as defaultRegistry,
  type ExperimentRegistry,
} from './experiments.js';
import { parseChoice, parseInteger } from './options.js';
import { type RunIo, runExperiment } from './run-experiment.js';
import { createStyle, useColor } from './style.js';

export const VERSION = '0.1.0';

export interface CliOptions {
  readonly registry?: ExperimentRegistry;
  readonly stdout?: TextSink;
  readonly stderr?: TextSink;
  readonly env?: NodeJS.ProcessEnv;
  /** Replaces process.exit for a forced exit on a second signal (tests). */
  readonly exit?: (code: number) => void;
}

const PROGRESS_MODES = ['auto', 'bar', 'lines', 'off'] as const;

function experimentsHelp(registry: ExperimentRegistry): string {
  const list = registry.list();
  if (list.length === 0) return '\nExperiments:\n  (none registered)\n';
  const width = Math.max(...list.map((e) => e.name.length));
  return `\nExperiments (neuralode train <experiment> --help for its options):\n${list
    .map((e) => `  ${e.name.padEnd(width)}  ${e.description}`)
    .join('\n')}\n`;
}

function addExperimentCommand(
  train: Command,
  experiment: AnyExperiment,
  io: RunIo,
  setExitCode: (code: number) => void,
): void {
  const cmd = train.command(experiment.name).description(experiment.description);
  cmd.addOption(new Option('--seed <n>', 'random seed').default(0).argParser(parseInteger({ min: 0 })));
  cmd.addOption(
    new Option('--iters <n>', 'total training iterations')
      .default(experiment.defaultIters)
      .argParser(parseInteger({ min: 0 })),
  );
  cmd.addOption(
    new Option('--checkpoint-every <n>', 'write a checkpoint every n iterations (and always at the end)')
      .default(experiment.defaultCheckpointEvery ?? 100)
      .argParser(parseInteger({ min: 1 })),
  );
  // No default value: the directory name is made when the run starts, so it is only described.
  cmd.addOption(new Option('--out <dir>', `run directory (default: runs/${experiment.name}-<timestamp>)`));
  cmd.addOption(
    new Option(
      '--resume <dir>',
      'continue from the latest checkpoint of a run directory (or a checkpoint directory)',
    ),
  );
  cmd.addOption(
    new Option('--json', 'print one JSON summary line on stdout and nothing else').default(false),
  );
  cmd.addOption(
    new Option('--progress <mode>', `progress display: ${PROGRESS_MODES.join(', ')}`)
      .default('auto')
      .argParser(parseChoice(PROGRESS_MODES)),
  );
  const common = new Set(cmd.options.map((o) => o.attributeName()));
  for (const [key, spec] of Object.entries(experiment.options)) {
    const opt = new Option(
      spec.flags,
      spec.choices ? `${spec.description} (${spec.choices.join(', ')})` : spec.description,
    );
    if (opt.attributeName() !== key) {
      throw new RunError(
        'invalidExperiment',
        `experiment '${experiment.name}': option key '${key}' must equal the camelCase name of '${spec.flags}' ('${opt.attributeName()}')`,
      );
    }
    if (common.has(key)) {
      throw new RunError(
        'invalidExperiment',
        `experiment '${experiment.name}': option '${spec.flags}' clashes with a common option`,
      );
    }
    opt.default(spec.defaultValue, spec.defaultDescription);
    if (spec.parse) opt.argParser(spec.parse);
    cmd.addOption(opt);
  }
  cmd.action(async (opts: Record<string, unknown>, command: Command) => {
    const explicit = new Set(Object.keys(opts).filter((k) => command.getOptionValueSource(k) === 'cli'));
    setExitCode(await runExperiment(experiment, opts, explicit, io));
  });
}

export function createProgram(
  options: CliOptions = {},
  setExitCode: (code: number) => void = () => {},
): Command {
  const registry = options.registry ?? defaultRegistry;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const errStyle = createStyle(useColor(stderr, env));
  const io = {
    stdout,
    stderr,
    style: errStyle,
    outStyle: createStyle(useColor(stdout, env)),
    exit: options.exit,
  };

  const program = new Command('neuralode');
  program
    .description(
      'Neural ordinary differential equations: train and plot the experiments of Chen et al. (2018).',
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => stdout.write(s),
      writeErr: (s) => stderr.write(s),
      outputError: (s, write) => write(errStyle.red(s)),
    })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', experimentsHelp(registry));

  const train = program
    .command('train')
    .description('train an experiment, or resume one with --resume')
    .addHelpText('after', experimentsHelp(registry));
  for (const experiment of registry.list()) addExperimentCommand(train, experiment, io, setExitCode);
  if (registry.list().length === 0) {
    train.action(() => {
      stderr.write(errStyle.red('neuralode: no experiments are registered in this build\n'));
      setExitCode(2);
    });
  }
  return program;
}

/**
 * Parses `argv` (as in process.argv: node, script, args…) and runs the command.
 * @returns the process exit code.
 */
export async function runCli(argv: readonly string[], options: CliOptions = {}): Promise<number> {
  let exitCode = 0;
  const program = createProgram(options, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      return 2;
    }
    throw error;
  }
  return exitCode;
}
