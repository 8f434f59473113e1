// A fresh Node process importing the package by its name, as an application does (the package's
// own `exports` resolve 'neurite' to dist/node.js); prints the shared cases' result as JSON.
import { runCases } from '../cases.mjs';
import { fixtureBytes } from '../fixtures.mjs';

const fixtures = fixtureBytes();
const startedAt = performance.now();
const { init } = await import('neurite');
const result = await runCases({ init, startedAt, ...fixtures });
process.stdout.write(`${JSON.stringify({ node: process.version, ...result })}\n`);
