// Every failure the gateway reports on `gateway/errors` carries one of these codes.
export const ERROR_CODES = ['BAD_TOPIC', 'BAD_PAYLOAD', 'TOO_MANY_SENSORS', 'TOO_LATE', 'INTERNAL'];

export class GatewayError extends Error {
  /** @param {'BAD_TOPIC'|'BAD_PAYLOAD'|'TOO_MANY_SENSORS'|'TOO_LATE'|'INTERNAL'} code */
  constructor(code, message) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
  }
}
