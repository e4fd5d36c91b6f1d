#!/usr/bin/env node
// The customer journey in Chromium against the real stack (no mock of our API):
// sign in → choose a plan (the driver delivers the signed Stripe webhook) → keys → wizard with
// chart → backtest → paper bot → a fill appears on the run page without reload → kill switch;
// axe-core on every page; a second user never sees the first user's bots.
//
// Environment:
//   PORTAL_URL      the built portal (its /api reaches the API)
//   USER_EMAIL, USER_PASSWORD, OTHER_EMAIL, OTHER_PASSWORD   two users of the OIDC provider
//   EXCHANGE_KEY, EXCHANGE_SECRET   a trade-only key the sandbox exchange knows
//   GRID_LOWER, GRID_UPPER, GRID_LINES, GRID_SPACING, GRID_INVESTMENT   the wizard's grid
//   EDIT_LOWER, EDIT_UPPER, EDIT_LINES   the running grid's edit
//   OUT_DIR         screenshots (default out/portal)
//   JOURNEY         full (default: the test's journey) or bench (benchmarks/bench_portal.py:
//                   only the figures; BENCH_REPEAT times each dashboard figure, default 3)
// Talking to the driver (stdin/stdout lines): `@@checkout` asks it to deliver the Stripe event
// of the Checkout just opened, and waits for a line `ok`; the last line is `@@result {json}`.
import { createInterface } from 'node:readline';
import { Journey, fullPageScreenshot, launch, newPage, signIn } from './browser.mjs';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const portal = env('PORTAL_URL').replace(/\/$/, '');
const user = { email: env('USER_EMAIL'), password: env('USER_PASSWORD') };
const other = { email: env('OTHER_EMAIL'), password: env('OTHER_PASSWORD') };
const grid = {
  lower: env('GRID_LOWER'),
  upper: env('GRID_UPPER'),
  lines: env('GRID_LINES'),
  spacing: env('GRID_SPACING', 'arithmetic'),
  investment: env('GRID_INVESTMENT'),
};
const journey = new Journey(env('OUT_DIR', 'out/portal'));

const driverLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function askDriver(request) {
  console.log(`@@${request}`);
  const answer = await driverLines.next();
  if (answer.done || answer.value.trim() !== 'ok') throw new Error(`driver refused ${request}: ${answer.value}`);
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/** Choose Pro: Stripe Checkout is Stripe's page (stubbed here: not our API); the driver then
 * delivers the signed subscription event, as Stripe would, and the user comes back. */
async function choosePlan(page) {
  await page.context().route('https://checkout.stripe.test/**', (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><html lang="en"><title>Stripe Checkout (test)</title><h1>Stripe Checkout (test)</h1></html>' }),
  );
  await page.getByRole('button', { name: 'Choose pro' }).click();
  await page.waitForURL(/checkout\.stripe\.test/);
  await askDriver('checkout');
  await page.goto(`${portal}/start`);
  await page.locator('.plan-current', { hasText: 'Pro' }).waitFor();
}

async function storeKeys(page) {
  await page.getByLabel('API key', { exact: true }).fill(env('EXCHANGE_KEY'));
  await page.getByLabel('Secret key', { exact: true }).fill(env('EXCHANGE_SECRET'));
  await page.getByRole('button', { name: 'Check and save keys' }).click();
  await page.getByText(/stored.*cannot withdraw/).waitFor();
  const secretShown = await page.getByText(env('EXCHANGE_SECRET')).count();
  assert(secretShown === 0, 'the secret is never shown');
  await page.getByRole('cell', { name: `****${env('EXCHANGE_KEY').slice(-4)}` }).waitFor();
}

async function fillWizard(page) {
  await page.getByLabel('Bot name', { exact: true }).fill('E2E BTC grid');
  await page.getByLabel('Lower price', { exact: true }).fill(grid.lower);
  await page.getByLabel('Upper price', { exact: true }).fill(grid.upper);
  await page.getByLabel('Grid lines', { exact: true }).fill(grid.lines);
  await page.getByLabel('Investment', { exact: true }).fill(grid.investment);
  await page.getByRole('radio', { name: new RegExp(grid.spacing, 'i') }).check();
  await page.getByText('Per round trip').waitFor();
  await page.locator('[data-testid="price-chart"] canvas').first().waitFor();
  await page.getByRole('heading', { name: /last [1-9]\d* one-minute candles/ }).waitFor(); // real candles drawn
}

async function backtest(page) {
  await page.getByRole('button', { name: 'Backtest these settings' }).click();
  await page.getByText('Buy & hold P&L').waitFor({ timeout: 60_000 });
  const roundTrips = await page.locator('.backtest-results .figure', { hasText: 'Round trips' }).locator('dd').textContent();
  journey.figures.backtest_round_trips = Number(roundTrips);
  // The backtest's fills on the price chart (the grid trades in this window: it has some).
  await page.getByText(/The price chart marks (its \d+|the newest \d+ of [\d,]+) fills/).waitFor();
  await page.getByRole('figure', { name: /and [1-9]\d* backtest fills/ }).waitFor();
  await page.locator('.backtest-results canvas').first().waitFor(); // the equity chart drawn
}

/** Start the paper bot, then wait on the open run page (never reloaded) for its first fill,
 * timing it from the API's first sight of a fill. */
async function watchFirstFill(page) {
  await page.getByRole('button', { name: 'Start paper bot' }).click();
  await page.waitForURL(/\/runs\//);
  const runId = page.url().split('/runs/')[1];
  await page.evaluate(() => (window.__sameDocument = true));
  const token = await accessToken(page);
  const apiFill = (async () => {
    for (;;) {
      const answer = await page.request.get(`${portal}/api/runs/${runId}`, { headers: { Authorization: `Bearer ${token}` } });
      const status = await answer.json();
      if (status.fills > 0) return Date.now();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  await page.getByText(/Newest \d+ of \d+ fills/).waitFor({ timeout: 60_000 });
  const seenAt = Date.now();
  journey.figures.first_fill_seen_at = seenAt;
  const firstSeenByApi = await apiFill;
  assert(await page.evaluate(() => window.__sameDocument === true), 'the run page was not reloaded');
  journey.figures.fill_visible_after_api_ms = Math.max(0, seenAt - firstSeenByApi);
  assert(journey.figures.fill_visible_after_api_ms <= 2000, 'a fill shows within 2 s');
  return runId;
}

/** Change the running grid: the diff first, then the edit applied without stopping the run,
 * seen as an order of the new grid resting on the exchange. */
async function editGrid(page) {
  await page.getByLabel('New lower price', { exact: true }).fill(env('EDIT_LOWER'));
  await page.getByLabel('New upper price', { exact: true }).fill(env('EDIT_UPPER'));
  await page.getByLabel('New grid lines', { exact: true }).fill(env('EDIT_LINES'));
  await page.getByRole('button', { name: 'Preview changes' }).click();
  const placed = page.getByRole('table', { name: /orders to place/ });
  await placed.waitFor();
  await journey.capture(page, '07-run-edit-grid-diff');
  const newPrices = (await placed.locator('tbody tr td.num:nth-child(3)').allTextContents()).map((t) => t.trim());
  await page.getByRole('button', { name: 'Apply to the running bot' }).click();
  const dialog = page.getByRole('dialog', { name: 'Apply this grid edit?' });
  await dialog.getByRole('button', { name: 'Apply edit' }).click();
  await page.getByText(/Edit (queued|applied)/).waitFor();
  // The stepped exchange moves fast: a new order may fill at once, so any order or fill at a
  // price only the new grid has shows the edit applied.
  await page.waitForFunction(
    (prices) =>
      [...document.querySelectorAll('[aria-labelledby="orders-title"] td.num, [aria-labelledby="fills-title"] td.num')].some((cell) =>
        prices.includes(cell.textContent.trim()),
      ),
    newPrices,
    { timeout: 30_000 },
  );
  await page.getByText('Edit applied: the bot trades the new grid.').waitFor();
  assert((await page.locator('.badge', { hasText: 'Running' }).count()) === 1, 'the bot runs on through the edit');
  await journey.capture(page, '07b-run-grid-edited');
  // A fresh page: the edit form starts from the grid the run trades now (not the bot's saved
  // one), and the uptime is the run's own (market) time, hours of the stepped week already.
  await page.reload();
  const fields = ['New lower price', 'New upper price', 'New grid lines'];
  const shown = await Promise.all(fields.map((label) => page.getByLabel(label, { exact: true }).inputValue()));
  const edited = [env('EDIT_LOWER'), env('EDIT_UPPER'), env('EDIT_LINES')].map(Number);
  assert(shown.map(Number).join() === edited.join(), `the edit form starts from the run's grid ${edited} (got ${shown})`);
  // Wall time since the start is under a minute here; the run's market clock is far ahead.
  const uptime = page.locator('.figure', { hasText: 'Uptime' }).locator('dd');
  await uptime.filter({ hasText: /\d+ (d|h)\b|([5-9]|\d\d) min/ }).waitFor({ timeout: 15_000 }).catch(async () => {
    throw new Error(`the uptime counts the run's market time (got ${await uptime.textContent()})`);
  });
}

async function killSwitch(page) {
  const dialog = page.getByRole('dialog', { name: 'Trip the kill switch?' });
  // By keyboard first: Enter opens the confirmation, Escape cancels it, focus comes back.
  await page.getByRole('button', { name: 'Kill switch' }).focus();
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  const refocused = await page.evaluate(() => document.activeElement?.textContent);
  assert(refocused === 'Kill switch', `focus returns to the kill switch (got ${refocused})`);
  await page.getByRole('button', { name: 'Kill switch' }).click();
  await dialog.waitFor();
  await journey.capture(page, '10-kill-switch-confirm');
  await dialog.getByRole('button', { name: 'Stop every bot' }).click();
  // The run stops at its worker's next tick: under a loaded CI machine that can pass 30 s.
  await page.locator('.badge', { hasText: 'Stopped' }).waitFor({ timeout: 90_000 });
  await page.getByText(/kill switch/i).first().waitFor();
  // The kill switch cancels the bot's resting orders (a plain stop leaves them).
  await page.getByText('No open orders').waitFor();
}

async function accessToken(page) {
  return page.evaluate(() => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith('oidc.user:'));
    return JSON.parse(sessionStorage.getItem(key)).access_token;
  });
}

/** The Pro plan's 50 bots on the dashboard: the time from loading the page (signed in) until
 * every card is on screen. */
async function dashboardOfFiftyBots(page) {
  const token = await accessToken(page);
  const headers = { Authorization: `Bearer ${token}` };
  const existing = await (await page.request.get(`${portal}/api/bots`, { headers })).json();
  for (let i = existing.length; i < 50; i += 1) {
    const body = { name: `Bench grid ${String(i).padStart(2, '0')}`, pair: 'BTC/USDT', grid: { lower: 90000 + i * 10, upper: 100000, lines: 10, investment: 500 } };
    const created = await page.request.post(`${portal}/api/bots`, { headers, data: body });
    assert(created.ok(), `bot ${i} created: ${created.status()}`);
  }
  const started = Date.now();
  await page.goto(`${portal}/`);
  await page.getByText('50 of 50 bots').waitFor();
  await page.getByRole('link', { name: 'Open run of E2E BTC grid' }).click({ trial: true });
  journey.figures.dashboard_50_bots_ms = Date.now() - started;
  assert((await page.getByRole('article').count()) === 50, 'a card per bot');
}

/** The dashboard of 50 bots from the provider's sign-in form: a new person (browser context)
 * signs in, timed from submitting the form until every card is on screen and the running bot's
 * link takes a click. `times` sign-ins; their times, fastest first. */
async function dashboardAfterSignIn(browser, times) {
  const spent = [];
  for (let i = 0; i < times; i += 1) {
    const page = await newPage(browser);
    const submittedAt = await signIn(page, portal, user);
    await page.getByText('50 of 50 bots').waitFor();
    await page.getByRole('link', { name: 'Open run of E2E BTC grid' }).click({ trial: true });
    spent.push(Date.now() - submittedAt);
    assert((await page.getByRole('article').count()) === 50, 'a card per bot');
    await page.context().close();
  }
  return spent.sort((a, b) => a - b);
}

async function keyboardReachable(page) {
  await page.goto(`${portal}/`);
  await page.getByRole('heading', { name: 'Your bots' }).waitFor();
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
  assert(first === 'Skip to content', `the first Tab stop is the skip link (got ${first})`);
  const reached = new Set();
  for (let i = 0; i < 12; i += 1) {
    await page.keyboard.press('Tab');
    reached.add(await page.evaluate(() => document.activeElement?.textContent?.trim()));
  }
  for (const name of ['Bots', 'New bot', 'Account', 'Sign out']) assert(reached.has(name), `Tab reaches ${name}`);
}

async function otherUserSeesNothing(browser, runId) {
  const page = await newPage(browser);
  await signIn(page, portal, other);
  await page.getByRole('heading', { name: 'No bots yet' }).waitFor();
  await journey.capture(page, '12-second-user-dashboard');
  assert((await page.getByText('E2E BTC grid').count()) === 0, "the second user sees no bot of the first");
  await page.goto(`${portal}/runs/${runId}`);
  await page.getByText('This run could not be loaded').waitFor();
  await journey.capture(page, '13-second-user-foreign-run');
  await page.goto(`${portal}/dex`);
  await page.getByRole('status', { name: 'Locked on the trial plan' }).waitFor();
  assert(await page.getByRole('button', { name: 'Check sell' }).isDisabled(), 'a trial user sees the check locked');
  await journey.capture(page, '13b-second-user-dex-locked');
  await page.context().close();
}

/** `JOURNEY=bench` (benchmarks/bench_portal.py): only what the figures need, each dashboard
 * figure taken `BENCH_REPEAT` times. */
async function benchJourney(browser, page) {
  journey.step('sign in');
  await signIn(page, portal, user);
  await page.getByRole('link', { name: 'Get started' }).click();
  await choosePlan(page);
  await storeKeys(page);
  await page.getByRole('checkbox', { name: /accept them for live trading/ }).check();
  await page.getByRole('button', { name: 'Accept', exact: true }).click();
  await page.getByText('Everything is accepted.').waitFor();
  journey.step('paper bot');
  await page.getByRole('link', { name: 'New bot' }).click();
  await fillWizard(page);
  await watchFirstFill(page);
  journey.step('50 bots');
  const repeat = Number(env('BENCH_REPEAT', '3'));
  const reloads = [];
  for (let i = 0; i < repeat; i += 1) {
    await dashboardOfFiftyBots(page);
    reloads.push(journey.figures.dashboard_50_bots_ms);
  }
  journey.figures.dashboard_50_bots_ms_all = reloads.sort((a, b) => a - b);
  journey.figures.dashboard_50_bots_after_sign_in_ms_all = await dashboardAfterSignIn(browser, repeat);
}

async function main() {
  const browser = await launch();
  const page = await newPage(browser);
  let failed = null;
  if (env('JOURNEY', 'full') === 'bench') {
    try {
      await benchJourney(browser, page);
    } catch (error) {
      failed = error;
    } finally {
      await browser.close();
    }
    console.log(`@@result ${JSON.stringify({ ok: !failed, error: failed ? String(failed.stack ?? failed) : null, figures: journey.figures, screenshots: [], axe: {} })}`);
    process.exit(failed ? 1 : 0);
  }
  try {
    journey.step('sign in');
    const signInStarted = Date.now();
    await signIn(page, portal, user);
    await page.getByRole('heading', { name: 'No bots yet' }).waitFor();
    journey.figures.dashboard_after_sign_in_ms = Date.now() - signInStarted;
    await journey.capture(page, '01-dashboard-empty');

    journey.step('plan');
    await page.getByRole('link', { name: 'Get started' }).click();
    await page.getByRole('heading', { name: 'Get started' }).waitFor();
    await journey.capture(page, '02-onboarding');
    await choosePlan(page);

    journey.step('keys');
    await storeKeys(page);
    await journey.capture(page, '03-onboarding-keys-stored');

    journey.step('risk disclosure');
    await page.getByRole('checkbox', { name: /accept them for live trading/ }).check();
    await page.getByRole('button', { name: 'Accept', exact: true }).click();
    await page.getByText('Everything is accepted.').waitFor();

    journey.step('wizard');
    await page.getByRole('link', { name: 'New bot' }).click();
    await fillWizard(page);
    await journey.capture(page, '04-wizard');

    journey.step('backtest');
    await backtest(page);
    await journey.capture(page, '05-wizard-backtest');

    journey.step('paper bot');
    const runId = await watchFirstFill(page);
    await journey.capture(page, '06-run-first-fill');

    journey.step('edit the running grid');
    await editGrid(page);

    journey.step('dashboard');
    await page.getByRole('link', { name: 'Bots' }).click();
    await page.getByRole('link', { name: 'Open run of E2E BTC grid' }).waitFor();
    // The running bot's card shows its figures (its run's snapshot from its first tick on).
    await page.waitForFunction(() => {
      const total = document.querySelector('.bot-card .figure-value');
      return total !== null && total.textContent.trim() !== '—';
    });
    await journey.capture(page, '08-dashboard');

    journey.step('account');
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    await page.getByRole('table', { name: 'Audit trail, newest first' }).waitFor();
    await journey.capture(page, '09-account');

    journey.step('dex');
    await page.getByRole('link', { name: 'DEX check' }).click();
    await page.getByRole('heading', { name: 'DEX sell check' }).waitFor();
    assert(await page.getByRole('button', { name: 'Check sell' }).isEnabled(), 'a Pro user may run DEX checks');
    await journey.capture(page, '09b-dex-check');

    journey.step('kill switch');
    await page.goto(`${portal}/runs/${runId}`);
    await page.getByRole('button', { name: 'Kill switch' }).waitFor();
    await killSwitch(page);
    await journey.capture(page, '11-run-killed');

    journey.step('50 bots');
    await dashboardOfFiftyBots(page);
    await page.getByText('Your kill switch is on.').waitFor();
    assert(await page.getByRole('button', { name: 'Start paper run of E2E BTC grid' }).isDisabled(), 'no bot can be started while the kill switch is on');
    await journey.capture(page, '14-dashboard-50-bots');

    journey.figures.dashboard_50_bots_after_sign_in_ms = (await dashboardAfterSignIn(browser, 1))[0];

    journey.step('keyboard');
    await keyboardReachable(page);

    journey.step('sign out');
    // Out through the provider's end-session page and back to the portal's sign-in.
    const portalOrigin = new URL(portal).origin;
    const leftPortal = page.waitForURL((url) => url.origin !== portalOrigin, { waitUntil: 'commit' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await leftPortal;
    await page.waitForURL((url) => url.origin === portalOrigin);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const tokensLeft = await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('oidc.user:')).length);
    const persisted = await page.evaluate(() => Object.keys(localStorage).length);
    assert(tokensLeft === 0 && persisted === 0, 'no token left in the browser after signing out, none ever in localStorage');

    journey.step('second user');
    await otherUserSeesNothing(browser, runId);
  } catch (error) {
    failed = error;
    await fullPageScreenshot(page, `${journey.outDir}/failure.png`).catch(() => undefined);
  } finally {
    await browser.close();
  }
  const serious = Object.entries(journey.a11y).filter(([, v]) => v.length > 0);
  console.log(`@@result ${JSON.stringify({ ok: !failed && serious.length === 0, error: failed ? String(failed.stack ?? failed) : null, figures: journey.figures, screenshots: journey.shots, axe: journey.a11y })}`);
  process.exit(failed || serious.length > 0 ? 1 : 0);
}

await main();
