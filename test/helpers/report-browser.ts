// Opens a report in headless Debian chromium (playwright-core, no browser download) and
// measures every figure as a reader would see it: the SVG is laid out and has marks, every text
// of the SVG (axis labels and titles, legend entries, facet headers) lies inside the SVG's box
// (a label cut off at the edge is outside it), the SVG fits the page's content column (no
// horizontal scrolling needed to read it), and the figure has a worded title. A screenshot of
// the whole page and one per figure are written to `outDir` for a human look.

import { mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface FigureCheck {
  readonly id: string;
  readonly title: string;
  readonly svgs: number;
  readonly width: number;
  readonly height: number;
  readonly marks: number;
  readonly texts: number;
  /** Texts whose box leaves the SVG's box, with by how many pixels. */
  readonly clipped: readonly string[];
  /** How far the SVG reaches beyond the figure's visible width (0 when it fits). */
  readonly overflowPx: number;
  readonly validityFlagged: boolean;
}

export interface PageCheck {
  readonly figures: readonly FigureCheck[];
  readonly errors: readonly string[];
  readonly requests: readonly string[];
  readonly shots: readonly string[];
  /** Text of the report's cells table, row by row. */
  readonly cellRows: ReadonlyArray<readonly string[]>;
}

/** Renders `html` in chromium, checks every figure and writes screenshots named `<name>-*.png` into outDir. */
export async function checkReportInBrowser(html: string, name: string, outDir: string): Promise<PageCheck> {
  mkdirSync(outDir, { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'snreport-'));
  const profile = join(tmp, 'profile');
  const file = join(tmp, `${name}.html`);
  await writeFile(file, html);
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => {
      if (r.url() !== `file://${file}`) requests.push(r.url());
    });
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    const figures = await page.$$eval('figure[data-chart]', (fs) => fs.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      const clipped: string[] = [];
      let texts = 0;
      if (svg && box) {
        const all = svg.querySelectorAll('text');
        for (let i = 0; i < all.length; i++) {
          const t = all[i]!;
          const b = t.getBoundingClientRect();
          if (b.width === 0 && b.height === 0) continue;
          texts++;
          const out = Math.max(box.left - b.left, b.right - box.right, box.top - b.top, b.bottom - box.bottom);
          if (out > 1) clipped.push(`"${(t.textContent ?? '').slice(0, 40)}" by ${out.toFixed(1)}px`);
          else if ((t.textContent ?? '').endsWith('…')) clipped.push(`"${(t.textContent ?? '').slice(0, 40)}" cut short by its label limit`);
        }
      }
      // Labels of one axis or legend must not run into each other. Rotated labels are compared
      // by the gap between their baselines (their axis-aligned boxes overlap by construction).
      const groups = svg ? svg.querySelectorAll('g.role-axis-label, g.role-legend-label') : [];
      for (let g = 0; g < groups.length; g++) {
        const ts = groups[g]!.querySelectorAll('text');
        const boxes: Array<{ l: number; r: number; t: number; b: number; s: string; x: number; angle: number; size: number }> = [];
        for (let i = 0; i < ts.length; i++) {
          const el = ts[i]!;
          const b = el.getBoundingClientRect();
          const tr = el.getAttribute('transform') ?? '';
          const rot = /rotate\((-?[\d.]+)\)/.exec(tr);
          const angle = rot ? Number(rot[1]) : 0;
          if (b.width > 0) boxes.push({ l: b.left, r: b.right, t: b.top, b: b.bottom, s: el.textContent ?? '', x: angle ? Number(/translate\((-?[\d.]+)/.exec(tr)?.[1] ?? 0) : 0, angle, size: parseFloat(el.getAttribute('font-size') ?? '11') });
        }
        const rotated = boxes.filter((x) => x.angle !== 0 && Math.abs(x.angle) !== 180).sort((a, b) => a.x - b.x);
        for (let i = 1; i < rotated.length; i++) {
          const a = rotated[i - 1]!;
          const c = rotated[i]!;
          const gap = (c.x - a.x) * Math.abs(Math.sin((c.angle * Math.PI) / 180));
          if (gap < 0.8 * c.size) clipped.push(`"${a.s.slice(0, 30)}" overlaps "${c.s.slice(0, 30)}" (rotated, ${gap.toFixed(1)}px apart)`);
        }
        const flat = boxes.filter((x) => x.angle === 0);
        for (let i = 0; i < flat.length; i++) {
          for (let j = i + 1; j < flat.length; j++) {
            const a = flat[i]!;
            const c = flat[j]!;
            const w = Math.min(a.r, c.r) - Math.max(a.l, c.l);
            const h = Math.min(a.b, c.b) - Math.max(a.t, c.t);
            if (w > 1 && h > 1) clipped.push(`"${a.s.slice(0, 30)}" overlaps "${c.s.slice(0, 30)}"`);
          }
        }
      }
      const fb = f.getBoundingClientRect();
      return {
        id: f.getAttribute('data-chart') ?? '',
        title: f.querySelector('h3')?.firstChild?.textContent?.trim() ?? '',
        svgs: f.querySelectorAll('svg').length,
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        marks: svg ? svg.querySelectorAll('path, line, rect').length : 0,
        texts,
        clipped,
        overflowPx: box ? Math.max(0, box.right - fb.right) : 0,
        validityFlagged: f.getAttribute('data-validity') === 'flagged',
      };
    }));
    const cellRows = await page.$$eval('#cells table tbody tr', (trs) => trs.map((tr) => {
      const tds = tr.querySelectorAll('td');
      const out: string[] = [];
      for (let i = 0; i < tds.length; i++) out.push((tds[i]!.textContent ?? '').trim());
      return out;
    }));
    const shots: string[] = [];
    const full = join(outDir, `${name}-page.png`);
    await page.screenshot({ path: full, fullPage: true });
    shots.push(full);
    for (const f of figures) {
      const p = join(outDir, `${name}-${f.id}.png`);
      await page.locator(`figure[data-chart="${f.id}"]`).screenshot({ path: p });
      shots.push(p);
    }
    return { figures, errors, requests, shots, cellRows };
  } finally {
    await context.close();
    await rm(tmp, { recursive: true, force: true });
  }
}
