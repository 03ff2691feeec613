// Drives the machine's Chromium (Debian `chromium`) through Neo4j Browser for tests/e2e/test_browser.py.
//
// Input (environment): CVG_BROWSER_URL (Neo4j's http://host:port), CVG_BOLT_URL
// (bolt://host:port as Browser should dial it), CVG_API_URL (serves /browser/style.grass and
// /browser/guide.html), CVG_QUERY (the Cypher to draw), CVG_ARTIFACTS (screenshot folder),
// optional CVG_NEO4J_USER / CVG_NEO4J_PASSWORD when the server has authentication on.
// Output: one line `RESULT {json}` with what the page showed; the Python test asserts on it.
// Chromium may reach loopback only: every other request is aborted and listed in `blocked`.
import { chromium } from 'playwright-core';
import path from 'node:path';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`browser_check.mjs needs ${name}`);
  return value;
};
const browserUrl = env('CVG_BROWSER_URL').replace(/\/$/, '');
const boltUrl = env('CVG_BOLT_URL');
const apiUrl = env('CVG_API_URL').replace(/\/$/, '');
const query = env('CVG_QUERY');
const artifacts = env('CVG_ARTIFACTS');
const password = process.env.CVG_NEO4J_PASSWORD || '';
const user = process.env.CVG_NEO4J_USER || 'neo4j';
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const started = Date.now();
const timings = {};
const mark = (name) => { timings[name] = Date.now() - started; };

const browser = await chromium.launch({
  executablePath: process.env.CVG_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const blocked = [];
const result = { blocked, timings };
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  // Browser asks for web fonts, Segment analytics and Canny; none of it may leave the machine.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (LOOPBACK.has(url.hostname)) return route.continue();
    blocked.push(url.origin);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  mark('launched');

  result.connected_via = await connect(page);
  mark('connected');
  await dismissBanner(page);
  // Whatever post_connect_cmd did (style, guide from some API), start from Browser's defaults.
  await command(page, ':style reset');
  await command(page, ':clear');

  result.unstyled = await drawGraph(page, 'browser-cluster.png');
  mark('cluster');

  // A stylesheet that loads adds no frame: its fetch answering is the signal.
  const fetched = page.waitForResponse((r) => r.url() === `${apiUrl}/browser/style.grass`
    && r.request().method() === 'GET', { timeout: 15000 });
  await command(page, `:style ${apiUrl}/browser/style.grass`);
  result.style_status = (await fetched).status();
  await command(page, ':clear');
  result.styled = await drawGraph(page, 'browser-style.png');
  mark('style');

  await command(page, `:play ${apiUrl}/browser/guide.html`);
  const guide = page.locator('[data-testid="frame"]').first();
  await guide.getByText('One person, every device, every datasource.').waitFor({ timeout: 15000 });
  await page.waitForTimeout(500);
  result.guide = {
    title: (await guide.locator('h3').first().innerText()).trim(),
    runnable_blocks: await guide.locator('pre.runnable').count(),
  };
  await page.screenshot({ path: path.join(artifacts, 'browser-guide.png') });
  mark('guide');
} catch (error) {
  result.error = String(error && error.stack ? error.stack : error);
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages.length) await pages[0].screenshot({ path: path.join(artifacts, 'browser-failure.png') });
  } catch { /* the failure screenshot is a courtesy */ }
} finally {
  await browser.close();
}
result.blocked = [...new Set(blocked)].sort();
console.log(`RESULT ${JSON.stringify(result)}`);

async function connect(page) {
  const method = password ? 'BASIC' : 'NO_AUTH';
  await page.goto(`${browserUrl}/browser/?dbms=${encodeURIComponent(boltUrl)}`
    + `&preselectAuthMethod=${method}`);
  // Connected means the editor's prompt names a database (`neo4j$`; it is a bare `$` before).
  // (Predicates run in the page, whose CSP forbids eval: each is a self-contained function.)
  const connected = () => /\S\$$/.test(
    document.querySelector('[data-testid="activeEditor"] .line-numbers')?.textContent?.trim() || '');
  const connectedOrForm = () => !!document.querySelector('[data-testid="connect"]') || /\S\$$/.test(
    document.querySelector('[data-testid="activeEditor"] .line-numbers')?.textContent?.trim() || '');
  const form = page.locator('[data-testid="connect"]');
  await page.waitForFunction(connectedOrForm, null, { timeout: 30000 });
  // The form may show while the connection the URL asked for is still being made.
  if (await page.waitForFunction(connected, null, { timeout: 5000 }).then(() => true, () => false)) {
    return 'url';
  }
  // The connection form: Browser 5.24 keeps the scheme in a select and host:port in the input.
  await page.locator('[data-testid="boltaddress"]').fill(boltUrl.replace(/^[a-z+]+:\/\//, ''));
  await page.locator('[data-testid="authenticationMethod"]').selectOption(method);
  if (password) {
    await page.locator('[data-testid="username"]').fill(user);
    await page.locator('[data-testid="password"]').fill(password);
  }
  await form.click();
  await page.waitForFunction(connected, null, { timeout: 30000 });
  return 'form';
}

async function dismissBanner(page) {
  // The usage-data notice covers part of the stream; closing it is what a user does first.
  // It appears a moment after connecting; its close button is the span drawing the `×`.
  const notice = page.getByText('To help make Neo4j Browser better');
  if (await notice.waitFor({ timeout: 5000 }).then(() => true, () => false)) {
    await notice.locator('xpath=..').locator(':scope > span').last().click().catch(() => {});
  }
}

async function command(page, text) {
  // Text goes in as one insertion (no auto-closed brackets, no Enter mid-query), then Ctrl+Enter.
  const editor = page.locator('[data-testid="activeEditor"]');
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  await page.keyboard.press('Control+Enter');
  await page.waitForTimeout(300);
}

async function drawGraph(page, screenshot) {
  await command(page, query);
  const frame = page.locator('[data-testid="frame"]').first();
  const status = frame.getByText(/Displaying \d+ nodes?, \d+ relationships?/);
  await status.waitFor({ timeout: 20000 });
  await settle(frame);
  const view = {
    displaying: (await status.innerText()).trim(),
    nodes: await frame.locator('svg g.node').evaluateAll((nodes) => nodes.map((n) => {
      const circle = n.querySelector('circle.b-outline');
      return {
        caption: (n.querySelector('text.caption')?.textContent || '').trim(),
        fill: circle?.getAttribute('fill'),
        radius: Number(circle?.getAttribute('r')),
      };
    })),
    relationships: await frame.locator('svg g.relationship').evaluateAll((rels) => rels.map(
      (r) => ({
        caption: (r.querySelector('text')?.textContent || '').trim(),
        fill: r.querySelector('path.b-outline')?.getAttribute('fill'),
      }))),
  };
  await page.screenshot({ path: path.join(artifacts, screenshot) });
  return view;
}

async function settle(frame) {
  // The force layout moves nodes for a while; wait until two samples agree (at most ~6 s).
  const sample = () => frame.locator('svg g.node').evaluateAll(
    (nodes) => nodes.map((n) => n.getAttribute('transform')).join('|'));
  let last = await sample();
  for (let i = 0; i < 20; i += 1) {
    await frame.page().waitForTimeout(300);
    const now = await sample();
    if (now === last && now) return;
    last = now;
  }
}
