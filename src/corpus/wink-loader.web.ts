/** wink-nlp with its English model in a browser bundle, which has no require(): imported, and bundled, as they are. */
import winkNLP, { type WinkMethods } from 'wink-nlp';
import model from 'wink-eng-lite-web-model';

export function loadWink(): WinkMethods {
  return winkNLP(model);
}
