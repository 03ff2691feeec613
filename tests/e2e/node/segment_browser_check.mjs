// The real analytics.js (@segment/analytics-next, pinned) in Debian's Chromium: a shop page at
// http://localhost:<port> loads it with cdnURL http://127.0.0.1:<port> (another origin: every
// call is cross-origin and needs the API's CORS answers), and it calls page, track, identify.
// Env: CVG_API (http://127.0.0.1:<port>), CVG_WRITE_KEY, CVG_EMAIL, CVG_CHROMIUM.
// Output: one line `RESULT {json}`: anonymousId, the API answers seen, failed requests and
// console messages, any error.
import { chromium } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const api = process.env.CVG_API;
const shop = api.replace('127.0.0.1', 'localhost') + '/shop.html';
const bundles = path.resolve('node_modules/@segment/analytics-next/dist/umd');
const page_html = `<!doctype html><title>shop</title><script src="/ajs/index.js"></script>`;
const browser = await chromium.launch({
  executablePath: process.env.CVG_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // The shop page is served by this script, so Chromium cannot tell it is on loopback
    // too; its local-network permission prompt is not what this test is about.
    '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights'],
});
const answers = [];
const result = { answers };
try {
  const context = await browser.newContext();
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.href === shop) return route.fulfill({ contentType: 'text/html', body: page_html });
    const file = url.pathname.startsWith('/ajs/') ? url.pathname.slice(5)
      : url.pathname.startsWith('/analytics-next/bundles/') ? url.pathname.slice(24) : null;
    if (file !== null && !file.includes('..')) {
      return route.fulfill({ contentType: 'application/javascript',
        body: await readFile(path.join(bundles, file)) });
    }
    if (url.hostname === '127.0.0.1') return route.continue();
    return route.abort();
  });
  const page = await context.newPage();
  page.on('response', (resp) => {
    const url = new URL(resp.url());
    if (url.hostname === '127.0.0.1') answers.push([resp.request().method(), url.pathname, resp.status()]);
  });
  result.failed = [];
  page.on('requestfailed', (req) => result.failed.push([req.url(), req.failure()?.errorText]));
  page.on('console', (msg) => result.failed.push(['console', msg.text()]));
  await page.goto(shop);
  result.anonymousId = await page.evaluate(async ({ api, key, email }) => {
    const [analytics] = await window.AnalyticsNext.AnalyticsBrowser.load(
      { writeKey: key, cdnURL: api });
    await analytics.page('Home');
    await analytics.track('Added To Cart', { sku: 'X1' });
    await analytics.identify({ email });
    return analytics.user().anonymousId();
  }, { api, key: process.env.CVG_WRITE_KEY, email: process.env.CVG_EMAIL });
  await page.waitForTimeout(500);
} catch (err) {
  result.error = String(err && err.stack || err);
} finally {
  await browser.close();
}
console.log('RESULT ' + JSON.stringify(result));
