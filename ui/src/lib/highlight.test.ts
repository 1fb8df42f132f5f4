import { describe, expect, it } from 'vitest';
import { highlightParts, markHits, searchTerms } from './highlight';

const hits = (text: string, q: string) =>
  highlightParts(text, searchTerms(q))
    .filter((p) => p.hit)
    .map((p) => p.text);

describe('searchTerms', () => {
  it('splits on whitespace, drops quotes and punctuation-only terms, keeps the prefix star', () => {
    expect(searchTerms(' "Linked"  list* -- ')).toEqual([
      { text: 'linked', prefix: false },
      { text: 'list', prefix: true },
    ]);
    expect(searchTerms('')).toEqual([]);
    expect(searchTerms(undefined)).toEqual([]);
  });
});

describe('highlightParts', () => {
  it('marks whole words case-insensitively and keeps the original text', () => {
    const parts = highlightParts('TCP is not tcp-like; TCPs differ', searchTerms('tcp'));
    expect(parts.map((p) => p.text).join('')).toBe('TCP is not tcp-like; TCPs differ');
    expect(parts.filter((p) => p.hit).map((p) => p.text)).toEqual(['TCP', 'tcp']);
  });

  it('extends prefix terms to the end of the word', () => {
    expect(hits('reverse reversed irreversible', 'revers*')).toEqual(['reverse', 'reversed']);
  });

  it('marks every term, preferring the longer one', () => {
    expect(hits('the linked list links', 'link linked')).toEqual(['linked']);
    expect(hits('a b', 'a b')).toEqual(['a', 'b']);
  });

  it('returns the text unmarked when nothing matches or there is no query', () => {
    expect(highlightParts('hello', searchTerms('bye'))).toEqual([{ text: 'hello', hit: false }]);
    expect(highlightParts('hello', [])).toEqual([{ text: 'hello', hit: false }]);
  });
});

describe('markHits', () => {
  it('wraps hits in <mark> elements without parsing the text as HTML', () => {
    const div = document.createElement('div');
    div.innerHTML = '<p>find <b>x</b> here</p>';
    div.querySelector('b')!.textContent = '<img src=x onerror=alert(1)> find';
    expect(markHits(div, searchTerms('find'))).toBe(2);
    expect(div.querySelectorAll('mark').length).toBe(2);
    expect(div.querySelector('img')).toBeNull();
    expect(div.textContent).toBe('find <img src=x onerror=alert(1)> find here');
  });

  it('does not mark inside existing marks when run twice', () => {
    const div = document.createElement('div');
    div.textContent = 'alpha beta';
    markHits(div, searchTerms('alpha'));
    expect(markHits(div, searchTerms('alpha'))).toBe(0);
    expect(div.querySelectorAll('mark').length).toBe(1);
  });
});
