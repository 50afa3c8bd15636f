/** Learning-rate schedules. */

export interface ScheduleConfig {
  /** Peak learning rate. */
  lr: number;
  /** Linear warmup from 0 over this many steps. */
  warmupSteps?: number;
  /** 'cosine' decays to minLr at decaySteps (nanoGPT); 'constant' holds lr after warmup. */
  decay?: 'cosine' | 'constant';
  decaySteps?: number;
  minLr?: number;
}

/** The learning rate for update `step` (0-based), as nanoGPT's get_lr. */
export function learningRate(c: ScheduleConfig, step: number): number {
  const warmup = c.warmupSteps ?? 0;
  if (step < warmup) return (c.lr * (step + 1)) / (warmup + 1);
  if ((c.decay ?? 'constant') === 'constant') return c.lr;
  const min = c.minLr ?? c.lr / 10;
  const end = c.decaySteps ?? step;
  if (step >= end) return min;
  const ratio = (step - warmup) / Math.max(1, end - warmup);
  return min + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (c.lr - min);
}
