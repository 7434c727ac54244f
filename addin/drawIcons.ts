/**
 * Draws the add-in's icons (addin/assets/icon-N.png): the glyph 报 in white on Excel's green, at
 * the sizes the manifest names (16, 32, 80 ribbon; 32, 64 add-in list; 128 store). The PNGs are
 * committed; run again (`npx tsx addin/drawIcons.ts`) only to change the design. Uses the system
 * Chromium's canvas so the glyph is rendered by a real CJK font (Noto Sans CJK SC).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ICON_SIZES = [16, 32, 64, 80, 128] as const;

const ASSETS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');

/** Runs in the page: returns a PNG data URL of one icon. */
function drawIcon(size: number): string {
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d context');
  const radius = Math.max(2, Math.round(size * 0.18));
  ctx.fillStyle = '#107C41';
  ctx.beginPath();
  ctx.roundRect(0, 0, size, size, radius);
  ctx.fill();
  ctx.fillStyle = '#FFFFFF';
  ctx.strokeStyle = '#FFFFFF';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  const fontSize = Math.round(size * 0.74);
  ctx.font = `${fontSize}px "Noto Sans CJK SC", "Noto Sans CJK", sans-serif`;
  // A thin stroke thickens the regular weight so the glyph stays legible at 16 px.
  ctx.lineWidth = Math.max(0.6, size / 40);
  ctx.fillText('报', size / 2, size / 2 + size * 0.03);
  ctx.strokeText('报', size / 2, size / 2 + size * 0.03);
  return canvas.toDataURL('image/png');
}

export async function drawIcons(executablePath = '/usr/bin/chromium'): Promise<string[]> {
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><meta charset="utf-8"><body></body>');
    const written: string[] = [];
    for (const size of ICON_SIZES) {
      const dataUrl = await page.evaluate(drawIcon, size);
      const file = path.join(ASSETS_DIR, `icon-${size}.png`);
      await writeFile(file, Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
      written.push(file);
    }
    return written;
  } finally {
    await browser.close();
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of await drawIcons()) console.log(file);
}
