// The `neurite` command: eval, predict, train, bench.
import { setFlagsFromString } from 'node:v8';
import { helpText } from './args';
import { COMMANDS } from './commands';

// An application may opt its own process into relaxed SIMD (a library must not); this has to
// happen before the first wasm compile. Harmless where the engine already has it.
setFlagsFromString('--experimental-wasm-relaxed-simd');

const HELP = `neurite — neural networks in SIMD WebAssembly\n\n${COMMANDS.map(helpText).join('\n')}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'eval': return (await import('./eval')).evalCommand(rest);
    case 'predict': return (await import('./predict')).predictCommand(rest);
    case 'train': return (await import('./train')).trainCommand(rest);
    case 'bench': return (await import('./bench')).benchCommand(rest);
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(HELP);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`neurite: unknown command ${JSON.stringify(command)}\n\n${HELP}`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    const err = e as { code?: string; message?: string };
    const message = err.message ?? String(e);
    process.stderr.write(`${message.startsWith('neurite ') ? '' : 'neurite: '}${err.code ? `[${err.code}] ` : ''}${message}\n`);
    process.exitCode = 1;
  },
);
