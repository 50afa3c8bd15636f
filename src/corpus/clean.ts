/**
 * Project Gutenberg boilerplate removal. A PG ebook wraps the book in a
 * license header and footer whose markers changed over the decades:
 *   modern:  *** START OF THE PROJECT GUTENBERG EBOOK EMMA ***
 *   older:   *** START OF THIS PROJECT GUTENBERG EBOOK EMMA ***
 *   1990s:   *END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*
 * and matching END markers ("*** END OF THE PROJECT GUTENBERG EBOOK …",
 * "End of the Project Gutenberg EBook of …", "End of Project Gutenberg's …").
 * The producer credit right after the start marker ("Produced by …") is
 * dropped too. NLTK's copies already lack the wrapper but begin with a
 * bracketed title line such as "[Emma by Jane Austen 1816]", which is kept as
 * metadata and removed from the body.
 */

export interface BookMetadata {
  /** NLTK's bracketed title line without brackets, e.g. "Emma by Jane Austen 1816". */
  titleLine?: string;
  /** "Title: …" from a PG header, when present. */
  title?: string;
  /** "Author: …" from a PG header, when present. */
  author?: string;
}

export interface CleanedText {
  body: string;
  metadata: BookMetadata;
  /** Whether any PG boilerplate marker was found and removed. */
  strippedBoilerplate: boolean;
}

export const START_MARKERS: readonly RegExp[] = [
  /^\s*\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK.*$/im,
  /^.*\*END\*\s*THE SMALL PRINT!.*$/im,
];

export const END_MARKERS: readonly RegExp[] = [
  /^\s*\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK.*$/im,
  /^\s*End of (?:the )?Project Gutenberg(?:'s)?\s+(?:E-?Book|E-?text|Etext)?.*$/im,
  /^\s*End of Project Gutenberg's .*$/im,
];

export const PRODUCER_CREDIT = /^\s*(?:Produced|Prepared|Transcribed|E-?text prepared) by\b[^\n]*(?:\n[^\n]+)*\n*/i;
export const TITLE_LINE = /^\s*\[([^\]\n]+)\]\s*?\n/;

export function cleanGutenbergText(text: string): CleanedText {
  const metadata: BookMetadata = {};
  let body = text;
  let strippedBoilerplate = false;

  const start = firstMatch(body, START_MARKERS);
  if (start) {
    const header = body.slice(0, start.index);
    const title = /^Title:\s*(.+)$/m.exec(header);
    const author = /^Author:\s*(.+)$/m.exec(header);
    if (title) metadata.title = title[1]!.trim();
    if (author) metadata.author = author[1]!.trim();
    body = body.slice(start.index + start[0].length).replace(/^\s*\n/, '');
    body = body.replace(PRODUCER_CREDIT, '');
    strippedBoilerplate = true;
  }
  const end = firstMatch(body, END_MARKERS);
  if (end) {
    body = body.slice(0, end.index);
    strippedBoilerplate = true;
  }

  const titleLine = TITLE_LINE.exec(body);
  if (titleLine) {
    metadata.titleLine = titleLine[1]!.trim();
    body = body.slice(titleLine[0].length);
  }
  return { body: body.replace(/^\n+/, '').replace(/\s+$/, '') + '\n', metadata, strippedBoilerplate };
}

/** The earliest match among `patterns`. */
export function firstMatch(text: string, patterns: readonly RegExp[]): RegExpExecArray | undefined {
  let best: RegExpExecArray | undefined;
  for (const p of patterns) {
    const m = p.exec(text);
    if (m && (!best || m.index < best.index)) best = m;
  }
  return best;
}
