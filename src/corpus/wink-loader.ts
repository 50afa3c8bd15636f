/**
 * wink-nlp with its English model, in Node. Loading the library and its model
 * takes ~0.4 s, so they are required on first use rather than imported at the
 * top: every CLI command imports nlp.ts, few of them tokenise words. (Browser
 * bundles use wink-loader.web.ts instead.)
 */
import { createRequire } from 'node:module';
import type { WinkMethods } from 'wink-nlp';

export function loadWink(): WinkMethods {
  const require = createRequire(import.meta.url);
  const winkNLP = require('wink-nlp') as typeof import('wink-nlp').default;
  return winkNLP(require('wink-eng-lite-web-model') as Parameters<typeof winkNLP>[0]);
}
