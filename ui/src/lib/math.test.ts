import { describe, expect, test } from 'vitest';
import { renderRich } from './markdown';
import { protectMath, typesetMath } from './math';

async function render(src: string): Promise<HTMLDivElement> {
  const { html, math } = renderRich(src);
  const div = document.createElement('div');
  div.innerHTML = html;
  await typesetMath(div, math);
  return div;
}

describe('math', () => {
  test('before KaTeX loads the source shows; after, the math', async () => {
    const { html, math } = renderRich('x $a^2$ y');
    const div = document.createElement('div');
    div.innerHTML = html;
    const done = typesetMath(div, math);
    // The first math of the page: KaTeX is still loading, the source stands in.
    expect(div.querySelector('.math.pending')?.textContent).toBe('$a^2$');
    await done;
    expect(div.querySelector('.math.pending')).toBeNull();
    expect(div.querySelector('.math .katex')).not.toBeNull();
  });
  test('inline and display forms are cut out before Markdown', () => {
    const { math } = protectMath('a $x_1 * y_2$ b \\(z\\) c $$\\frac{70}{220}$$ d \\[\\boxed{42}\\]');
    expect(math).toEqual([
      { tex: 'x_1 * y_2', display: false },
      { tex: 'z', display: false },
      { tex: '\\frac{70}{220}', display: true },
      { tex: '\\boxed{42}', display: true },
    ]);
  });
  test('prices, escaped dollars and code stay text', () => {
    expect(protectMath('costs $5 and $10').math).toEqual([]);
    expect(protectMath('a \\$ b \\$ c').math).toEqual([]);
    expect(protectMath('`$x$` and ```\n$$y$$\n```').math).toEqual([]);
  });
  test('typeset: KaTeX markup in place, emphasis untouched by the underscores', async () => {
    const div = await render('The ratio is $\\frac{70}{220}$, so $a_1 * b_2$.\n\n$$\\sum_{i=1}^n i$$');
    expect(div.querySelectorAll('.math .katex').length).toBe(3);
    expect(div.querySelectorAll('.math.display').length).toBe(1);
    expect(div.querySelector('em')).toBeNull();
    expect(div.textContent).toContain('The ratio is');
  });
  test('a span that does not parse shows its source', async () => {
    const div = await render('bad: $\\frac{1}{$ end');
    const err = div.querySelector('code.math-error');
    expect(err?.textContent).toBe('$\\frac{1}{$');
  });
  test('no trust: links and HTML commands do not become markup', async () => {
    const div = await render('$\\href{javascript:alert(1)}{x}$ $\\htmlClass{evil}{y}$ $<img src=x onerror=alert(1)>$ $\\url{https://evil.example}$');
    expect(div.querySelector('a')).toBeNull();
    expect(div.querySelector('img')).toBeNull();
    expect(div.querySelector('.evil')).toBeNull();
    for (const el of Array.from(div.querySelectorAll('*'))) {
      for (const a of Array.from(el.attributes)) expect(a.name.startsWith('on'), `${el.tagName} ${a.name}`).toBe(false);
    }
  });
  test('a placeholder never lands in an attribute', async () => {
    const div = await render('[link](https://example.com "$x$") and $y$');
    const a = div.querySelector('a')!;
    expect(a.getAttribute('title')).not.toContain('<');
    expect(div.querySelectorAll('.katex').length).toBe(1);
  });
});
