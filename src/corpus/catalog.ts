/**
 * NLTK's `gutenberg` corpus: its 18 file ids with the Project Gutenberg ebook
 * each was taken from. The ebook numbers let `inkwell data download` fetch the
 * same books from Project Gutenberg (today's editions, with PG boilerplate that
 * the cleaner strips).
 */
export interface CatalogEntry {
  /** NLTK file id without ".txt", e.g. "austen-emma". */
  id: string;
  ebook: number;
  title: string;
  author: string;
}

export const NLTK_GUTENBERG: readonly CatalogEntry[] = [
  { id: 'austen-emma', ebook: 158, title: 'Emma', author: 'Jane Austen' },
  { id: 'austen-persuasion', ebook: 105, title: 'Persuasion', author: 'Jane Austen' },
  { id: 'austen-sense', ebook: 161, title: 'Sense and Sensibility', author: 'Jane Austen' },
  { id: 'bible-kjv', ebook: 10, title: 'The King James Bible', author: 'Anonymous' },
  { id: 'blake-poems', ebook: 574, title: 'Poems of William Blake', author: 'William Blake' },
  { id: 'bryant-stories', ebook: 473, title: 'Stories to Tell to Children', author: 'Sara Cone Bryant' },
  { id: 'burgess-busterbrown', ebook: 2886, title: 'The Adventures of Buster Bear', author: 'Thornton W. Burgess' },
  { id: 'carroll-alice', ebook: 11, title: "Alice's Adventures in Wonderland", author: 'Lewis Carroll' },
  { id: 'chesterton-ball', ebook: 5265, title: 'The Ball and the Cross', author: 'G. K. Chesterton' },
  { id: 'chesterton-brown', ebook: 223, title: 'The Wisdom of Father Brown', author: 'G. K. Chesterton' },
  { id: 'chesterton-thursday', ebook: 1695, title: 'The Man Who Was Thursday', author: 'G. K. Chesterton' },
  { id: 'edgeworth-parents', ebook: 3655, title: "The Parent's Assistant", author: 'Maria Edgeworth' },
  { id: 'melville-moby_dick', ebook: 2701, title: 'Moby Dick', author: 'Herman Melville' },
  { id: 'milton-paradise', ebook: 26, title: 'Paradise Lost', author: 'John Milton' },
  { id: 'shakespeare-caesar', ebook: 2263, title: 'The Tragedie of Julius Caesar', author: 'William Shakespeare' },
  { id: 'shakespeare-hamlet', ebook: 2265, title: 'The Tragedie of Hamlet', author: 'William Shakespeare' },
  { id: 'shakespeare-macbeth', ebook: 2264, title: 'The Tragedie of Macbeth', author: 'William Shakespeare' },
  { id: 'whitman-leaves', ebook: 1322, title: 'Leaves of Grass', author: 'Walt Whitman' },
];

/** Looks up a book by NLTK id ("austen-emma") or ebook number ("158"). */
export function findCatalogEntry(idOrEbook: string): CatalogEntry | undefined {
  return NLTK_GUTENBERG.find((e) => e.id === idOrEbook || String(e.ebook) === idOrEbook);
}
