import { describe, expect, it } from 'vitest';
import { renderMarkdown, sanitize } from './markdown';

const PAYLOADS = [
  '<script>alert(1)</script>',
  '<img src=x onerror="alert(1)">',
  '<svg onload="alert(1)"><circle r="1"/></svg>',
  '<a href="javascript:alert(1)">click</a>',
  '[click](javascript:alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '[click](  javascript:alert(1))',
  '<iframe src="https://evil.example"></iframe>',
  '<object data="x.swf"></object><embed src="x.swf">',
  '<p style="background:url(javascript:alert(1))">styled</p>',
  '<div style="position:fixed;inset:0">overlay</div>',
  '<a href="data:text/html,<script>alert(1)</script>">data</a>',
  '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '<form action="https://evil.example"><input name=pw></form>',
  '<style>body{display:none}</style>',
  '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
  '![tracker](https://evil.example/pixel.png)',
  '<img src="https://evil.example/pixel.png">',
  '<details open ontoggle=alert(1)>x</details>',
  '<a href="https://ok.example" onclick="alert(1)">ok</a>',
  '<code class="language-x hljs evil">x</code><span class="katex">y</span>',
  '```x" onmouseover="alert(1)\ncode\n```',
];

/** Everything that would make the output unsafe, as offending descriptions. */
function unsafe(html: string): string[] {
  const root = document.createElement('div');
  // Parsing into a detached template runs no scripts and loads nothing.
  const t = document.createElement('template');
  t.innerHTML = html;
  root.appendChild(t.content);
  const bad: string[] = [];
  for (const el of Array.from(root.querySelectorAll('*'))) {
    const tag = el.tagName.toLowerCase();
    if (['script', 'style', 'iframe', 'object', 'embed', 'form', 'input', 'svg', 'math', 'link', 'meta', 'base', 'details'].includes(tag)) {
      bad.push(`<${tag}>`);
    }
    for (const a of Array.from(el.attributes)) {
      if (a.name.startsWith('on')) bad.push(`${tag}[${a.name}]`);
      if (a.name === 'style' || a.name.includes('href') && a.name !== 'href') bad.push(`${tag}[${a.name}]`);
      // A class only as marked writes it on code: the language, for highlighting.
      if (a.name === 'class' && !(tag === 'code' && /^language-[\w+#.-]+$/.test(a.value))) bad.push(`${tag}[class=${a.value}]`);
      if ((a.name === 'href' || a.name === 'src') && !/^(https?:|mailto:|data:image\/(png|jpeg|gif|webp);)/i.test(a.value.trim())) {
        bad.push(`${tag}[${a.name}=${a.value}]`);
      }
      if (tag === 'img' && a.name === 'src' && !a.value.startsWith('data:image/')) bad.push(`remote image ${a.value}`);
    }
  }
  return bad;
}

describe('renderMarkdown', () => {
  it('renders Markdown with code blocks, tables and lists', () => {
    const html = renderMarkdown('# Title\n\n**bold** and `code`\n\n```python\nprint("<hi>")\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- two');
    const div = document.createElement('div');
    div.innerHTML = html;
    expect(div.querySelector('h1')?.textContent).toBe('Title');
    expect(div.querySelector('strong')?.textContent).toBe('bold');
    expect(div.querySelector('pre code')?.textContent).toBe('print("<hi>")\n');
    expect(div.querySelectorAll('td').length).toBe(2);
    expect(div.querySelectorAll('li').length).toBe(2);
  });

  it('shows raw HTML from the model as text', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('before <b>not bold</b> after');
    expect(div.querySelector('b')).toBeNull();
    expect(div.textContent).toContain('<b>not bold</b>');
  });

  it('opens safe links in a new tab without an opener', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('[docs](https://example.com/a?b=1)');
    const a = div.querySelector('a')!;
    expect(a.getAttribute('href')).toBe('https://example.com/a?b=1');
    expect(a.getAttribute('target')).toBe('_blank');
    expect(a.getAttribute('rel')).toBe('noopener noreferrer');
  });

  it('keeps inline data: images and replaces remote ones with their alt text', () => {
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown(`![plot](${png}) ![pixel](https://evil.example/p.png)`);
    const imgs = div.querySelectorAll('img');
    expect(imgs.length).toBe(1);
    expect(imgs[0].getAttribute('src')).toBe(png);
    expect(div.textContent).toContain('[image: pixel]');
  });

  for (const p of PAYLOADS) {
    it(`neutralises ${p}`, () => {
      expect(unsafe(renderMarkdown(p))).toEqual([]);
    });
  }
});

describe('sanitize (the second layer, fed raw HTML directly)', () => {
  for (const p of PAYLOADS) {
    it(`strips ${p}`, () => {
      expect(unsafe(sanitize(p))).toEqual([]);
    });
  }

  it('keeps the harmless parts', () => {
    const div = document.createElement('div');
    div.innerHTML = sanitize('<a href="https://ok.example" onclick="alert(1)">ok</a><p style="color:red">styled</p>');
    expect(div.querySelector('a')?.getAttribute('href')).toBe('https://ok.example');
    expect(div.querySelector('p')?.textContent).toBe('styled');
  });

  it('checks the helper itself: unsafe() does flag dangerous HTML', () => {
    expect(unsafe('<script>x</script><img src="https://e" onerror="y"><a href="javascript:z">a</a>').length).toBeGreaterThanOrEqual(4);
  });
});
