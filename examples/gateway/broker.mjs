// The embedded MQTT broker (aedes, in memory) for a machine with none installed. Run alone
// (`node examples/gateway/broker.mjs --port 1883`) it is a separate process the gateway can be
// killed independently of, which is how the crash tests use it: an in-process broker dies with
// the gateway and forgets every session and queued reading.
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';

/** Start aedes on host:port; resolves { url, close() }. */
export async function startBroker({ host = '127.0.0.1', port = 1883 } = {}) {
  const aedes = await Aedes.createBroker();
  const server = createServer({ noDelay: true }, aedes.handle); // see gateway.mjs: no Nagle delays
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const bound = server.address().port;
  return {
    url: `mqtt://${host}:${bound}`,
    port: bound,
    // aedes.close() ends the connected clients, which a listening server otherwise waits for
    close: () => new Promise((resolve) => aedes.close(() => server.close(() => resolve()))),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '1883' } } });
  const b = await startBroker({ host: values.host, port: Number(values.port) });
  console.log(`broker: aedes listening on ${b.url}`);
}
