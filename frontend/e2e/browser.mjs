// Helpers of the browser end-to-end scripts: Debian's Chromium through playwright-core, the
// local OIDC sign-in form, axe-core checks and screenshots.
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** A fresh browser context (its own cookies and sessionStorage: another person). */
export async function newPage(browser, { viewport = { width: 1440, height: 1000 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
  return page;
}

/** Sign in through the portal's button and the provider's form; back on `returnTo`. Returns
 * the time (epoch ms) the provider's form was submitted. */
export async function signIn(page, portalUrl, { email, password }) {
  await page.goto(portalUrl);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  const submittedAt = Date.now();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.origin === new URL(portalUrl).origin && url.pathname !== '/callback');
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return submittedAt;
}

/** axe-core on the page as it is: the serious and critical violations (none expected). */
export async function axeViolations(page) {
  await page.addScriptTag({ path: AXE });
  const results = await page.evaluate(async () => {
    const run = await window.axe.run(document, { resultTypes: ['violations'] });
    return run.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  return results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The whole page in one image, taken from the top: scrolled, the sticky top bar would be drawn
 * where the window was, partway down the image. */
export async function fullPageScreenshot(page, path) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage: true });
}

export class Journey {
  constructor(outDir) {
    this.outDir = outDir;
    this.shots = [];
    this.figures = {};
    this.a11y = {};
    mkdirSync(outDir, { recursive: true });
  }

  /** A screenshot of the page and its axe check, both recorded under `name`. */
  async capture(page, name) {
    const file = join(this.outDir, `${name}.png`);
    await fullPageScreenshot(page, file);
    this.shots.push(file);
    const violations = await axeViolations(page);
    this.a11y[name] = violations;
    if (violations.length > 0) console.error(`[axe] ${name}: ${JSON.stringify(violations, null, 1)}`);
    return violations;
  }

  step(what) {
    console.log(`[journey] ${new Date().toISOString()} ${what}`);
  }
}
