/**
 * A `MessageDocument` as robot text: the markdown subset DingTalk and WeCom share (headings, bold,
 * links) and plain text, with user-supplied text neutralised so it can never turn into markup, a
 * link or an @mention, and cut to the provider's byte limit rather than refused.
 */
import type { MessageDocument, Segment } from './channel.js';

/**
 * Markdown-significant characters become their full-width look-alikes: a name like `[点我](http://…)`
 * or `**` stays text. Record numbers and dates (letters, digits, `-`) are untouched.
 */
const NEUTRAL: Record<string, string> = {
  '*': '＊',
  _: '＿',
  '`': '｀',
  '[': '［',
  ']': '］',
  '<': '＜',
  '>': '＞',
  '#': '＃',
  '@': '＠',
  '~': '～',
  '|': '｜',
  '\\': '＼',
};

export function neutralText(text: string): string {
  return text.replace(/[*_`[\]<>#@~|\\]/g, (c) => NEUTRAL[c] ?? c).replace(/\s+/g, ' ');
}

function markdownSegment(s: Segment): string {
  const text = neutralText(s.text);
  return s.strong && text.trim() !== '' ? `**${text}**` : text;
}

/** A URL safe inside `[text](url)`: our own task pane URL, with the characters that end the link encoded. */
function markdownUrl(url: string): string {
  return url.replace(/[()\s<>]/g, (c) => encodeURIComponent(c));
}

export function renderMarkdown(doc: MessageDocument, paragraphs = doc.paragraphs, cut = false): string {
  const lines = [`#### ${neutralText(doc.title)}`];
  for (const p of paragraphs) lines.push(p.map(markdownSegment).join(''));
  if (cut) lines.push(doc.language === 'en' ? '…(shortened)' : '……（内容过长，已截断）');
  if (doc.link) lines.push(`[${neutralText(doc.link.text)}](${markdownUrl(doc.link.url)})`);
  return lines.join('\n\n');
}

export function renderPlain(doc: MessageDocument, paragraphs = doc.paragraphs, cut = false): string {
  const lines = [doc.title.replace(/\s+/g, ' ')];
  for (const p of paragraphs) lines.push(p.map((s) => s.text.replace(/\s+/g, ' ')).join(''));
  if (cut) lines.push(doc.language === 'en' ? '…(shortened)' : '……（内容过长，已截断）');
  if (doc.link) lines.push(`${doc.link.text}: ${doc.link.url}`);
  return lines.join('\n');
}

/**
 * Renders with as many whole paragraphs as fit in `maxBytes` of UTF-8 (the title and the link
 * always stay); a cut message says so. Providers refuse an over-long message outright.
 */
export function renderWithin(
  doc: MessageDocument,
  maxBytes: number,
  render: (doc: MessageDocument, paragraphs: Segment[][], cut: boolean) => string,
  extraBytes = 0,
): string {
  const full = render(doc, doc.paragraphs, false);
  const fits = (text: string) => Buffer.byteLength(text, 'utf8') + extraBytes <= maxBytes;
  if (fits(full)) return full;
  const cutAt = (n: number) => render(doc, doc.paragraphs.slice(0, n), true);
  return cutAt(longestPrefix(doc.paragraphs.length - 1, (n) => fits(cutAt(n))));
}

/** The largest n in [0, max] for which `ok(n)` holds, given that it holds for every smaller n (or 0). */
export function longestPrefix(max: number, ok: (n: number) => boolean): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
