// Drives Debian's Chromium through a shop's pages for tests/e2e/test_real_site.py. The pages
// come from a page server on another origin than the API and carry the snippet that
// `converge-graph sources add` printed. Each scenario runs in a fresh browser context (its
// own cookies):
//   story    the Converge docs' track, set and forward calls, queued before cvg.js loads
//   leave    a call made in a `pagehide` handler, then the visitor navigates away
//   retry    the first POST reaches the API but the page is answered 503; the SDK retries
//   misuse   cvg() without an object, and a call the API answers 422
//   refused  the same calls from a page whose origin the datasource does not list
// Input (environment): CVG_PAGES (the page server's base URL), CVG_CHROMIUM.
// Output: one line `RESULT {json}` with, per scenario, the browser id and what was seen.
import { chromium } from 'playwright-core';

const pages = process.env.CVG_PAGES;
const browser = await chromium.launch({
  executablePath: process.env.CVG_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const result = {};

async function open(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const seen = { collected: [], warnings: [], pageErrors: [] };
  page.on('response', (resp) => {
    const req = resp.request();
    if (req.url().includes('/v1/collect/') && req.method() === 'POST') seen.collected.push(resp.status());
  });
  page.on('console', (msg) => { if (msg.text().startsWith('cvg:')) seen.warnings.push(msg.text()); });
  page.on('pageerror', (err) => seen.pageErrors.push(String(err)));
  result[name] = seen;
  return { context, page, seen };
}

async function loaded(page) {
  await page.waitForFunction(() => window.cvg && window.cvg.process && window.cvg.uid);
  return page.evaluate(() => window.cvg.uid());
}

async function until(check, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

try {
  {
    const { context, page, seen } = await open('story');
    await page.goto(`${pages}/story.html`);
    seen.uid = await loaded(page);
    await until(() => seen.collected.length >= 3);
    await context.close();
  }
  {
    const { context, page, seen } = await open('leave');
    await page.goto(`${pages}/leave.html`);
    seen.uid = await loaded(page);
    await page.goto(`${pages}/next.html`); // pagehide fires on the way out
    seen.left = await page.evaluate(() => location.pathname);
    await page.waitForTimeout(1500);
    await context.close();
  }
  {
    const { context, page, seen } = await open('retry');
    seen.attempts = 0;
    await page.route('**/v1/collect/**', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      seen.attempts += 1;
      seen.at = (seen.at || []).concat(Date.now());
      if (seen.attempts > 1) return route.continue();
      // The write reaches the API and commits; only its answer is lost to a 503 that asks
      // for a retry in 2 s.
      const response = await route.fetch();
      seen.firstAnswer = response.status();
      return route.fulfill({
        response, status: 503, headers: { ...response.headers(), 'retry-after': '2' },
        body: '{"error":{"code":"test","message":"forced 503"}}',
      });
    });
    await page.goto(`${pages}/retry.html`);
    seen.uid = await loaded(page);
    await page.waitForFunction(() => window.placed !== undefined, null, { timeout: 20000 });
    seen.resolved = await page.evaluate(() => window.placed);
    await context.close();
  }
  {
    const { context, page, seen } = await open('misuse');
    await page.goto(`${pages}/misuse.html`);
    seen.uid = await loaded(page);
    await page.waitForFunction(() => window.misuse !== undefined, null, { timeout: 20000 });
    seen.resolved = await page.evaluate(() => window.misuse);
    seen.unhandled = await page.evaluate(() => window.unhandled);
    await context.close();
  }
  {
    const { context, page, seen } = await open('refused');
    await page.goto(`${pages}/refused.html`);
    seen.uid = await loaded(page);
    // Each refused attempt looks like a network error to the page: the SDK retries, then
    // warns once and resolves with an error.
    await page.waitForFunction(() => window.refusedAnswer !== undefined, null, { timeout: 30000 });
    seen.resolved = await page.evaluate(() => window.refusedAnswer);
    await context.close();
  }
} catch (err) {
  result.error = String(err && err.stack || err);
} finally {
  await browser.close();
}
console.log('RESULT ' + JSON.stringify(result));
