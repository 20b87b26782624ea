// What every console journey needs: Debian's chromium through playwright-core, sign-in,
// and a check of each page: no accessibility violations (axe-core), no script errors or
// Content-Security-Policy refusals, nothing wider than a 320-pixel screen, and
// screenshots at 1280 and 375 pixels wide.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

export const config = JSON.parse(process.env.SIGNPOST_CONSOLE_TEST || '{}');
export const base = config.base;
const shots = config.out;
mkdirSync(shots, { recursive: true });

export const checked = [];
const open = [];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

// A browser context of its own (its own cookies), whose page fails the test on any script
// error or refused resource other than the API's expected answers.
export async function person(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
  const page = await context.newPage();
  open.push(page);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`script error: ${e.message}`));
  page.on('console', (m) => {
    const t = m.text();
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of (401|403|404|409|422|429)/.test(t)) {
      page.problems.push(`console ${m.type()}: ${t}`);
    }
  });
  return page;
}

export async function signIn(page, who) {
  await page.goto(`${base}/console/sign-in`);
  await page.getByLabel('Email address').fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Sign out' }).waitFor();
}

// Waits until the page's main heading is text (a regular expression, or exactly a string).
export async function heading(page, text) {
  await page.getByRole('heading', { level: 1, name: text, exact: typeof text === 'string' }).first().waitFor();
}

async function axe(page, name) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(AXE);
  const r = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), AXE_TAGS);
  const found = r.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`);
  assert.deepEqual(found, [], `accessibility violations on ${name}`);
}

// Whether anything makes the page wider than the window (it would scroll sideways).
async function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

// The checks every page gets; name is the screenshot's file name.
export async function check(page, name) {
  await page.waitForLoadState('networkidle');
  assert.deepEqual(page.problems, [], `problems on ${name}`);
  await axe(page, name);
  await page.screenshot({ path: `${shots}/${name}-1280.png`, fullPage: true });
  await page.setViewportSize({ width: 375, height: 800 });
  await page.screenshot({ path: `${shots}/${name}-375.png`, fullPage: true });
  await page.setViewportSize({ width: 320, height: 800 });
  assert.ok((await overflow(page)) <= 0, `${name} is wider than 320 pixels`);
  await axe(page, `${name} at 320 pixels`);
  await page.setViewportSize({ width: 1280, height: 900 });
  checked.push(name);
}

// One screen's worth (not the whole page) at a given width, for the README.
export async function snap(page, name, width = 1280, height = 900) {
  await page.setViewportSize({ width, height });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${shots}/${name}.png` });
  await page.setViewportSize({ width: 1280, height: 900 });
}

// The API with a key, for what tenants and providers do (texting in) and for checks.
export async function api(method, path, body, key = config.officer_key) {
  const r = await fetch(`${base}${path}`, {
    method, headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

export async function until(fn, what, timeout = 60000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

// Runs the steps in order; a failed step stops the run with its name.
export async function run(steps) {
  let failed = 0;
  for (const [name, fn] of steps) {
    const t = Date.now();
    try {
      await fn();
      console.log(`ok   ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    } catch (e) {
      console.log(`FAIL ${name}\n${e.stack || e}`);
      failed++;
      for (const [i, p] of open.filter((x) => !x.isClosed()).entries()) {
        console.log(`page ${i} at ${p.url()}: screenshot FAILED-${i}.png`);
        await p.screenshot({ path: `${shots}/FAILED-${i}.png`, fullPage: true }).catch(() => {});
      }
      break;
    }
  }
  console.log(`pages checked (axe, 320 px, screenshots): ${checked.length}: ${checked.join(', ')}`);
  return failed;
}
