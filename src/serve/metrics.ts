/**
 * Prometheus metrics (/metrics): requests by route and status, sequences
 * decoding and waiting, tokens generated, and time-to-first-token and
 * inter-token latency histograms, per model. Gauges are read from the
 * schedulers when scraped, so they cannot drift from the truth.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServedModel } from './models.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'status'>;
  readonly tokens: Counter<'model'>;
  readonly ttft: Histogram<'model'>;
  readonly itl: Histogram<'model'>;

  constructor(models: readonly ServedModel[]) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'inkwell_' });
    this.requests = new Counter({ name: 'inkwell_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['route', 'status'], registers });
    this.tokens = new Counter({ name: 'inkwell_generated_tokens_total', help: 'Tokens generated', labelNames: ['model'], registers });
    this.ttft = new Histogram({ name: 'inkwell_time_to_first_token_seconds', help: 'From a request arriving to its first token, per sequence', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers });
    this.itl = new Histogram({ name: 'inkwell_inter_token_latency_seconds', help: 'Between consecutive tokens of a sequence', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers });
    const gauge = (name: string, help: string, read: (m: ServedModel) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['model'],
        registers,
        collect() {
          for (const m of models) this.set({ model: m.name }, read(m));
        },
      });
    gauge('inkwell_active_sequences', 'Sequences holding a decoding slot', (m) => m.scheduler.active);
    gauge('inkwell_queue_depth', 'Sequences waiting for a slot', (m) => m.scheduler.queued);
    gauge('inkwell_slots', 'Decoding slots (--max-batch)', (m) => m.scheduler.slots);
  }
}
