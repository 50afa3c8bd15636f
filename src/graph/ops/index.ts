/** All graph ops, in the spirit of torch.nn.functional: `import * as F from './graph/ops/index.js'`. */
export * from './elementwise.js';
export * from './matmul.js';
export * from './broadcast.js';
export * from './reduce.js';
export * from './shape.js';
export * from './indexing.js';
export * from './nn.js';
export * from './attention.js';
export * from './recurrent.js';
export type { MatmulOptions } from './matmul.js';
export * from './sample.js';
