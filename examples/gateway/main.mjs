// npm run gateway -- [--broker mqtt://HOST:PORT] [--port 1883] [--state DIR] [--model FILE]
//   [--max-sensors 64] [--round-every 200] [--max-in-flight 20 (at most the broker's in-flight window)]
// Without --broker it starts the embedded aedes broker on 127.0.0.1:PORT (in this process).
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startBroker } from './broker.mjs';
import { Gateway } from './gateway.mjs';

const { values } = parseArgs({ strict: true, options: {
  broker: { type: 'string' },
  port: { type: 'string', default: '1883' },
  state: { type: 'string', default: 'gateway-state' },
  model: { type: 'string', default: fileURLToPath(new URL('../../models/sensor-lstm.safetensors', import.meta.url)) },
  'max-sensors': { type: 'string' },
  'round-every': { type: 'string' },
  'max-in-flight': { type: 'string' },
} });

let broker = values.broker;
let embedded;
if (!broker) {
  embedded = await startBroker({ port: Number(values.port) });
  broker = embedded.url;
  console.log(`gateway: no --broker given: started the embedded aedes broker on ${broker} (in memory: sessions and queued readings do not survive this process)`);
}
const gateway = new Gateway({ broker, stateDir: values.state, modelPath: values.model,
  ...(values['max-sensors'] && { maxSensors: Number(values['max-sensors']) }),
  ...(values['round-every'] && { roundEvery: Number(values['round-every']) }),
  ...(values['max-in-flight'] && { maxInFlight: Number(values['max-in-flight']) }) });
await gateway.start();
console.log('gateway: ready');

const shutdown = async () => {
  await gateway.stop();
  await embedded?.close();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
