// Drives the real @segment/analytics-node (pinned in package.json) against converge-graph:
// only `host` differs from a team's production set-up. Prints one line: RESULT <json>.
// Env: CVG_HOST, CVG_WRITE_KEY, CVG_RUN (a unique suffix for ids).
import { Analytics } from '@segment/analytics-node'

const run = process.env.CVG_RUN
const analytics = new Analytics({
  writeKey: process.env.CVG_WRITE_KEY,
  host: process.env.CVG_HOST,
  flushAt: 20,
  maxRetries: 0,
})
const errors = []
const statuses = []
analytics.on('error', (err) => errors.push(String(err.reason ?? err.message ?? err)))
analytics.on('http_response', (res) => statuses.push(res.status))

analytics.identify({
  userId: `node-user-${run}`,
  anonymousId: `node-anon-${run}`,
  traits: { email: `node-${run}@shop.io`, plan: 'team' },
  messageId: `node-identify-${run}`,
})
analytics.track({
  anonymousId: `node-anon-${run}`,
  event: 'Order Completed',
  properties: { total: 42 },
  messageId: `node-track-${run}`,
})
analytics.page({ anonymousId: `node-anon-${run}`, name: 'Pricing', category: 'Docs' })
analytics.group({ userId: `node-user-${run}`, groupId: `acme-${run}`, traits: { seats: 3 } })
await analytics.closeAndFlush({ timeout: 20000 })
console.log('RESULT ' + JSON.stringify({ errors, statuses }))
