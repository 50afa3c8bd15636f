import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A fresh temporary directory removed when the test file finishes. */
export function tempDir(prefix = 'inkwell-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Small prose fixtures with contractions, punctuation, accents and numbers. */
export const SAMPLE_BOOKS: Record<string, string> = {
  'austen-mini': '[Mini Emma by Jane Austen 1816]\n\nEmma Woodhouse, handsome, clever, and rich, had lived nearly twenty-one years in the world. She didn\'t mind it.\nThe real evils, indeed, of Emma\'s situation were the power of having rather too much her own way.\n',
  'melville-mini': '[Mini Moby by Herman Melville 1851]\n\nCall me Ishmael. Some years ago--never mind how long precisely--having little or no money in my purse, I thought I would sail about a little and see the watery part of the world.\n',
  'chesterton-mini': '[Mini Ball by G.K. Chesterton 1909]\n\nThe flying ship of Professor Lucifer sang through the skies like a silver arrow; the café was closed. "Is it?" he asked. 1909 was long ago.\n',
};

/** A Project Gutenberg style file with modern header and footer. */
export function gutenbergWrapped(body: string, title = 'Emma', author = 'Jane Austen'): string {
  return [
    `The Project Gutenberg eBook of ${title}`,
    '',
    `Title: ${title}`,
    `Author: ${author}`,
    '',
    `*** START OF THE PROJECT GUTENBERG EBOOK ${title.toUpperCase()} ***`,
    'Produced by An Volunteer and the Online Distributed Proofreading Team',
    '',
    body,
    `*** END OF THE PROJECT GUTENBERG EBOOK ${title.toUpperCase()} ***`,
    '',
    'Section 1. General Terms of Use and Redistributing Project Gutenberg-tm',
    'License text that must be removed.',
  ].join('\r\n');
}
