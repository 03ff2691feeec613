// Drives Debian's Chromium through the demo shop for tests/e2e/test_sdk.py: the page defines
// the queue stub, calls cvg() before /v1/cvg.js has loaded, then a visitor adds to cart and
// subscribes to the newsletter, and opens "my identity".
// Input (environment): CVG_SHOP_URL (the /demo?token=… page), CVG_EMAIL, CVG_ARTIFACTS,
// CVG_READ_KEY (typed into "my identity", which needs a read key).
// Output: one line `RESULT {json}` with the cookie, the identity shown and blocked requests.
import { chromium } from 'playwright-core';
import path from 'node:path';

const shop = process.env.CVG_SHOP_URL;
const email = process.env.CVG_EMAIL;
const artifacts = process.env.CVG_ARTIFACTS;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const browser = await chromium.launch({
  executablePath: process.env.CVG_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const blocked = [];
const result = { blocked };
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (LOOPBACK.has(url.hostname)) return route.continue();
    blocked.push(url.origin);
    return route.abort();
  });
  const page = await context.newPage();
  const collected = [];
  page.on('response', async (resp) => {
    if (resp.url().includes('/v1/collect/')) collected.push(resp.status());
  });
  await page.goto(shop);
  // The queued page view is sent once the SDK has loaded and replaced the stub.
  await page.waitForFunction(() => window.cvg && window.cvg.process && window.cvg.uid);
  await page.waitForFunction(() => document.cookie.includes('__cvg_uid='));
  await page.click('#add-to-cart');
  await page.fill('#email', email);
  await page.fill('#first-name', 'Jane');
  await page.click('#newsletter button[type=submit]');
  await page.waitForFunction(() => document.getElementById('log').textContent.includes('Subscribed'));
  await page.waitForTimeout(500);
  // Poll "my identity" until the three calls are in the visitor's cluster.
  let identity = null;
  await page.fill('#read-key', process.env.CVG_READ_KEY || '');
  for (let i = 0; i < 40; i++) {
    await page.click('#show-me');
    await page.waitForTimeout(250);
    const text = await page.textContent('#identity');
    try { identity = JSON.parse(text); } catch { identity = null; }
    if (identity && identity.event_count >= 3 && identity.aliases.some((a) => a.startsWith('urn:email:'))) break;
  }
  result.identity = identity;
  result.uid = await page.evaluate(() => window.cvg.uid());
  result.cookie = (await context.cookies()).find((c) => c.name === '__cvg_uid') || null;
  result.collected = collected;
  await page.screenshot({ path: path.join(artifacts, 'demo-shop.png'), fullPage: true });
} catch (err) {
  result.error = String(err && err.stack || err);
} finally {
  await browser.close();
}
console.log('RESULT ' + JSON.stringify(result));
