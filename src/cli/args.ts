// Command-line flags: one table per command gives each flag's type, default, allowed values and
// help line; parsing (node:util parseArgs, strict) and the --help text both come from it, so the
// help can never show a default the code does not use. An unknown or misspelt flag is an error
// that names the closest one.
import { parseArgs } from 'node:util';
import { closest } from '../options';

export interface Flag {
  type: 'string' | 'number' | 'boolean';
  default?: string | number | boolean;
  /** the value's placeholder in the help, e.g. N */
  arg?: string;
  help: string;
  /** allowed values of a string flag */
  choices?: readonly string[];
  /** a number flag that must be a positive integer */
  integer?: boolean;
}

export interface CommandSpec {
  name: string;
  /** what follows the command name besides flags, e.g. '<model.safetensors>' */
  usage: string;
  summary: string;
  flags: Record<string, Flag>;
}

export type Values = Record<string, string | number | boolean | undefined>;

export class UsageError extends Error {}

export function helpText(cmd: CommandSpec): string {
  const lines = [`neurite ${cmd.name} ${cmd.usage}`.trimEnd(), `  ${cmd.summary}`];
  const entries = Object.entries(cmd.flags);
  if (entries.length) lines.push('', 'Options:');
  const left = entries.map(([name, f]) => `  --${name}${f.type === 'boolean' ? '' : ` ${f.arg ?? (f.choices ? f.choices.join('|') : f.type === 'number' ? 'N' : 'VALUE')}`}`);
  const width = Math.max(...left.map((l) => l.length), 0) + 2;
  entries.forEach(([, f], i) => {
    const dflt = f.default === undefined ? '' : ` (default ${f.default})`;
    lines.push(`${left[i].padEnd(width)}${f.help}${dflt}`);
  });
  lines.push(`  --help`.padEnd(width) + 'this text');
  return `${lines.join('\n')}\n`;
}

/**
 * Parse `argv` for `cmd`: positionals, and every flag's value (its default when absent), typed
 * and checked. Throws UsageError with a readable message for anything wrong.
 */
export function parseCommand(cmd: CommandSpec, argv: string[]): { positional: string[]; values: Values; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, f] of Object.entries(cmd.flags)) options[name] = { type: f.type === 'boolean' ? 'boolean' : 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (e) {
    const message = (e as Error).message;
    const unknown = /Unknown option '(--?[^']+)'/.exec(message)?.[1];
    if (unknown) {
      const near = closest(unknown.replace(/^-+/, ''), Object.keys(cmd.flags));
      throw new UsageError(`neurite ${cmd.name}: unknown option ${unknown}${near ? ` (did you mean --${near}?)` : ''}\n\n${helpText(cmd)}`);
    }
    throw new UsageError(`neurite ${cmd.name}: ${message}\n\n${helpText(cmd)}`);
  }
  const values: Values = {};
  for (const [name, f] of Object.entries(cmd.flags)) {
    const raw = (parsed.values as Record<string, string | boolean | undefined>)[name];
    if (raw === undefined) { values[name] = f.default; continue; }
    if (f.type === 'boolean') { values[name] = raw; continue; }
    const s = String(raw);
    if (f.choices && !f.choices.includes(s)) throw new UsageError(`neurite ${cmd.name}: --${name} takes ${f.choices.join(', ')}, not ${JSON.stringify(s)}`);
    if (f.type === 'number') {
      const n = Number(s);
      if (s.trim() === '' || !Number.isFinite(n)) throw new UsageError(`neurite ${cmd.name}: --${name} takes a number, not ${JSON.stringify(s)}`);
      if (f.integer && (!Number.isSafeInteger(n) || n < 1)) throw new UsageError(`neurite ${cmd.name}: --${name} takes a positive integer, not ${s}`);
      values[name] = n;
    } else {
      values[name] = s;
    }
  }
  return { positional: parsed.positionals, values, help: parsed.values.help === true };
}
