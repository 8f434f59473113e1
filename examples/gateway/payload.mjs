// Reading messages are untrusted: every field is checked before anything is stored, and each
// failure is a GatewayError that the gateway reports instead of crashing on.
import { GatewayError } from './errors.mjs';

/** A sensor id: it names a topic level and a directory. */
export const SENSOR_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TOPIC = /^sensors\/([A-Za-z0-9_-]{1,64})\/reading$/;
const MAX_BYTES = 1024; // a reading is ~60 bytes; anything far bigger is not one

/** { sensor, seq, values } from a `sensors/<id>/reading` message; `features` names the values. */
export function parseReading(topic, payload, features) {
  const m = TOPIC.exec(topic);
  if (!m) throw new GatewayError('BAD_TOPIC', `topic ${JSON.stringify(topic.slice(0, 100))} is not sensors/<id>/reading with an id of 1-64 [A-Za-z0-9_-]`);
  if (payload.length > MAX_BYTES) throw new GatewayError('BAD_PAYLOAD', `payload of ${payload.length} bytes (at most ${MAX_BYTES})`);
  let body;
  try { body = JSON.parse(payload.toString('utf8')); } catch {
    throw new GatewayError('BAD_PAYLOAD', 'payload is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new GatewayError('BAD_PAYLOAD', 'payload is not a JSON object');
  if (!Number.isSafeInteger(body.seq) || body.seq < 0) throw new GatewayError('BAD_PAYLOAD', `seq must be a non-negative integer, got ${JSON.stringify(body.seq)}`);
  const values = features.map((f) => {
    const v = body[f];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new GatewayError('BAD_PAYLOAD', `${f} must be a finite number, got ${JSON.stringify(v)}`);
    // physical range of the TelosB SHT11 (with margin): a value outside it is a broken sensor or a bad message
    if (Math.abs(v) > 1e4) throw new GatewayError('BAD_PAYLOAD', `${f} ${v} is out of range`);
    return v;
  });
  return { sensor: m[1], seq: body.seq, values };
}
