// Markdown for model output: marked, then DOMPurify with a strict allow-list.
//
// Rollout text is written by a model under training, so it is hostile input.
// Two layers:
// 1. Raw HTML in the Markdown is shown as text, never interpreted: a model
//    that emits "<div>" or "<script>" should be seen doing so, and nothing it
//    writes becomes markup except through Markdown syntax.
// 2. Whatever marked produces is sanitized with an allow-list of tags and
//    attributes: no script/style/iframe/object/form/input/svg, no on*
//    handlers, no style or class, links only to http(s) and mailto (opened in
//    a new tab with rel="noopener noreferrer"), images only as inline
//    data:image/(png|jpeg|gif|webp) so a rollout can never make the browser
//    fetch a remote URL (tracking pixels, internal hosts).
import { Marked } from 'marked';
import createDOMPurify from 'dompurify';
import { protectMath, type MathSpan } from './math';

const escapeHTML = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const marked = new Marked({
  gfm: true,
  // Chat models use single newlines as line breaks.
  breaks: true,
  async: false,
  renderer: {
    html({ text }) {
      return escapeHTML(text);
    },
  },
});

const ALLOWED_TAGS = [
  'a', 'p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'strong', 'em', 'b', 'i', 'del', 's', 'code', 'pre',
  'blockquote', 'ul', 'ol', 'li', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'img', 'sup', 'sub', 'span',
];
// class only survives on code, as marked writes a fence's language (see the hook).
const ALLOWED_ATTR = ['href', 'title', 'alt', 'src', 'align', 'start', 'class'];
const LANGUAGE_CLASS = /^language-[\w+#.-]+$/;
const SAFE_LINK = /^(?:https?:|mailto:)/i;
const SAFE_IMAGE = /^data:image\/(?:png|jpeg|gif|webp);base64,[a-z0-9+/=\s]+$/i;

const purify = createDOMPurify(window);
purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.hasAttribute('class') && !(node.nodeName === 'CODE' && LANGUAGE_CLASS.test(node.getAttribute('class') ?? ''))) {
    node.removeAttribute('class');
  }
  if (node.nodeName === 'A') {
    const href = node.getAttribute('href') ?? '';
    if (!SAFE_LINK.test(href.trim())) node.removeAttribute('href');
    else {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
  } else if (node.nodeName === 'IMG') {
    const src = node.getAttribute('src') ?? '';
    if (!SAFE_IMAGE.test(src)) {
      // Keep the alt text so the reader still sees what was there.
      const alt = node.getAttribute('alt');
      node.replaceWith(node.ownerDocument.createTextNode(alt ? `[image: ${alt}]` : '[image]'));
    }
  } else if (node.hasAttribute('src')) {
    node.removeAttribute('src');
  }
});

const CONFIG = {
  ALLOWED_TAGS,
  ALLOWED_ATTR,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  // Broad here; the hook above narrows links and images per tag.
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|data:image\/)/i,
  KEEP_CONTENT: true,
};

/** Sanitize HTML with the allow-list (exported so tests can feed it raw payloads). */
export function sanitize(html: string): string {
  return purify.sanitize(html, CONFIG) as unknown as string;
}

/** Markdown to safe HTML. */
export function renderMarkdown(src: string): string {
  return sanitize(marked.parse(src) as string);
}

/**
 * Markdown with math: the math is cut out first (so the Markdown parser
 * never sees `_` or `*` inside it), the rest rendered and sanitized, and the
 * math typeset into the DOM afterwards by typesetMath.
 */
export function renderRich(src: string): { html: string; math: MathSpan[] } {
  const { text, math } = protectMath(src);
  return { html: sanitize(marked.parse(text) as string), math };
}
