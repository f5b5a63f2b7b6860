// One cross-origin fetch() from a page, in headless Chromium: loads PAGE_URL (served by the test
// on one origin) and fetches API_URL (the gateway's control API, another origin) with
// Authorization and method METHOD. Prints one JSON line: {ok, status, body, location} when the
// browser let the page read the answer, {blocked: true, error} when CORS stopped it.
import { launchMember } from './chromium_member.mjs';

const [pageUrl, apiUrl, method, token] = process.argv.slice(2);
const member = await launchMember([], 'roomcast-e2e-cors-');
try {
  await member.page.goto(pageUrl, { timeout: 30000 });
  const result = await member.page.evaluate(async ({ apiUrl, method, token }) => {
    try {
      const r = await fetch(apiUrl, { method, headers: { Authorization: `Bearer ${token}`,
                                                         'Content-Type': 'application/json' },
                                      body: method === 'POST' ? '{}' : undefined });
      return { ok: true, status: r.status, body: await r.text(), location: r.headers.get('Location') };
    } catch (e) {
      return { blocked: true, error: String(e) };
    }
  }, { apiUrl, method, token });
  console.log(JSON.stringify(result));
} finally {
  await member.close();
}
