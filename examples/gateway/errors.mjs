// Every failure the gateway reports on `gateway/errors` carries one of these codes.
export const ERROR_CODES = ['BAD_TOPIC', 'BAD_PAYLOAD', 'TOO_MANY_SENSORS', 'INTERNAL'];

export class GatewayError extends Error {
  /** @param {'BAD_TOPIC'|'BAD_PAYLOAD'|'TOO_MANY_SENSORS'|'INTERNAL'} code */
  constructor(code, message) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
  }
}
