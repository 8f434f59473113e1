// Learning-rate schedules, evaluated on the host once per optimizer step (step counts from 0).
import { NeuriteError } from './errors';
import { checkKeys } from './options';

export type ScheduleSpec =
  | { type: 'constant' }
  /** lr·gamma^⌊step/stepSize⌋ */
  | { type: 'step'; stepSize: number; gamma?: number }
  /** lr·decayRate^(step/decaySteps), or ^⌊…⌋ with staircase */
  | { type: 'exponential'; decaySteps: number; decayRate: number; staircase?: boolean }
  /** lr/(1 + decay·step): the classic "learning-rate decay" */
  | { type: 'inverseTime'; decay: number }
  /** cosine from lr down to lr·alpha over decaySteps, then flat */
  | { type: 'cosine'; decaySteps: number; alpha?: number };

export type Schedule = (step: number) => number;

function positive(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new NeuriteError('INVALID_ARGUMENT', `schedule: ${what} must be a positive number, got ${JSON.stringify(v)}`);
  }
  return v;
}

const SCHEDULE_OPTIONS: Record<string, readonly string[]> = {
  constant: [], step: ['stepSize', 'gamma'], exponential: ['decaySteps', 'decayRate', 'staircase'], inverseTime: ['decay'], cosine: ['decaySteps', 'alpha'],
};

export function schedule(lr: number, spec: ScheduleSpec | undefined): Schedule {
  if (spec === undefined) return () => lr;
  const known = typeof spec === 'object' && spec !== null && Object.hasOwn(SCHEDULE_OPTIONS, spec.type) ? SCHEDULE_OPTIONS[spec.type] : undefined;
  if (known) checkKeys(spec, ['type', ...known], `schedule ${spec.type}`);
  switch (spec?.type) {
    case 'constant':
      return () => lr;
    case 'step': {
      const size = positive(spec.stepSize, 'stepSize');
      const gamma = spec.gamma ?? 0.1;
      return (t) => lr * gamma ** Math.floor(t / size);
    }
    case 'exponential': {
      const steps = positive(spec.decaySteps, 'decaySteps');
      const rate = positive(spec.decayRate, 'decayRate');
      return (t) => lr * rate ** (spec.staircase ? Math.floor(t / steps) : t / steps);
    }
    case 'inverseTime': {
      const decay = spec.decay;
      if (typeof decay !== 'number' || !(decay >= 0)) throw new NeuriteError('INVALID_ARGUMENT', 'schedule: decay must be ≥ 0');
      return (t) => lr / (1 + decay * t);
    }
    case 'cosine': {
      const steps = positive(spec.decaySteps, 'decaySteps');
      const alpha = spec.alpha ?? 0;
      return (t) => lr * (alpha + (1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * Math.min(t, steps) / steps)));
    }
    default:
      throw new NeuriteError('UNKNOWN_NAME',
        `unknown learning-rate schedule ${JSON.stringify((spec as { type?: unknown })?.type)} (known: constant, step, exponential, inverseTime, cosine)`);
  }
}
