// Types for scripts/serve.mjs (the examples' static server), for the TypeScript tests.
import type { Server } from 'node:http';

export const SERVED: string[];
export const HOME: string;
export const MIME_TYPES: Record<string, string>;

export interface Running {
  /** e.g. http://127.0.0.1:8080 (no trailing slash) */
  url: string;
  port: number;
  server: Server;
  /** stops listening and ends open connections */
  close(): Promise<void>;
}

export function serve(options?: { port?: number; host?: string; root?: string }): Promise<Running>;
