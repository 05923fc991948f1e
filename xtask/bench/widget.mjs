// `cargo xtask bench widget`'s browser side: loads the bench page in headless Chromium
// (through playwright-core, driving the system's /usr/bin/chromium over the DevTools
// protocol) `runs` times per profile, and prints one flat JSON object per load on stdout.
// xtask/src/bench_widget.rs starts the servers, runs this and makes the table.
//
// Usage: node widget.mjs '{"playwright": ".../index.mjs", "chromium": "/usr/bin/chromium",
//   "page": "http://127.0.0.1:P/", "server": "http://127.0.0.1:S", "runs": 20}'
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const opts = JSON.parse(process.argv[2]);
const { chromium } = await import(pathToFileURL(opts.playwright).href);

const ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--no-first-run',
];
// Chrome DevTools' "Slow 3G" preset: 2 s latency, 400 kbit/s each way.
const SLOW_3G = { offline: false, latency: 2000, downloadThroughput: 50000, uploadThroughput: 50000 };
const PROFILES = {
  plain: {},
  'cpu-4x': { cpu: 4 },
  'slow-3g': { network: SLOW_3G },
};
// A load that takes longer than this has failed (slow 3G needs several seconds).
const TIMEOUT = 60000;

// Runs in the page before any of its scripts: timestamps from MutationObservers (no
// polling, which would compete with the widget for the throttled CPU), long tasks and
// layout shifts, each observer buffered so nothing before it is missed.
const INIT = () => {
  const nm = (window.__nmBench = {
    buttonAt: null, hoverAt: null, clickAt: null, interactiveAt: null,
    longest: 0, longestAt: null, cls: 0, shifts: [],
  });
  let drawn, interactive, watching = false;
  nm.button = new Promise((r) => (drawn = r));
  nm.interactive = new Promise((r) => (interactive = r));
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.duration > nm.longest) [nm.longest, nm.longestAt] = [e.duration, e.startTime];
      }
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) {}
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.hadRecentInput) continue;
        nm.cls += e.value;
        // What moved, for the report (nodes in the shadow root show as the host).
        const what = (e.sources || []).map((s) => (s.node ? s.node.nodeName + (s.node.className ? '.' + s.node.className : '') : '?'));
        nm.shifts.push({ at: e.startTime, value: e.value, what: what.join(',') });
      }
    }).observe({ type: 'layout-shift', buffered: true });
  } catch (e) {}
  const check = () => {
    const root = document.querySelector('nearmiss-widget')?.shadowRoot;
    if (!root) return;
    if (!watching) {
      watching = true;
      new MutationObserver(check).observe(root, { subtree: true, childList: true, attributes: true });
    }
    if (nm.buttonAt == null && root.querySelector('.launcher')) {
      nm.buttonAt = performance.now();
      drawn();
    }
    if (nm.clickAt != null && nm.interactiveAt == null) {
      const radio = root.querySelector('[role=radio]'), panel = root.querySelector('.panel');
      if (radio && panel && !panel.hidden && radio.checkVisibility()) {
        nm.interactiveAt = performance.now();
        interactive();
      }
    }
  };
  // Capture phase on window: before the launcher's own handlers. The first pointer over
  // the launcher is the widget's own sign of intent; the click is the measured one.
  addEventListener('pointerover', (e) => {
    if (nm.hoverAt == null && e.target.localName === 'nearmiss-widget') nm.hoverAt = performance.now();
  }, true);
  addEventListener('click', () => {
    if (nm.clickAt == null) nm.clickAt = performance.now();
    check();
  }, true);
  new MutationObserver(check).observe(document, { subtree: true, childList: true });
};

const within = (promise, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no result within ${TIMEOUT / 1000} s`)), TIMEOUT)),
  ]);

async function load(profile) {
  const dir = mkdtempSync(join(tmpdir(), 'nearmiss-bench-'));
  // A fresh profile per load: a cold HTTP cache and no localStorage from earlier loads.
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: opts.chromium,
    headless: true,
    args: ARGS,
  }).catch((e) => {
    rmSync(dir, { recursive: true, force: true });
    throw Object.assign(e, { launch: true });
  });
  const problems = [];
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    await page.addInitScript(INIT);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    // Bytes as the network saw them (headers and encoded body): the page is on another
    // origin and the server sends no Timing-Allow-Origin, so Resource Timing's
    // transferSize is 0 for the widget's files.
    const urls = new Map(), done = [];
    cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
    cdp.on('Network.loadingFinished', (e) => {
      const url = urls.get(e.requestId);
      if (url && url.startsWith(opts.server)) done.push({ url, bytes: e.encodedDataLength });
    });
    if (profile.cpu) await cdp.send('Emulation.setCPUThrottlingRate', { rate: profile.cpu });
    if (profile.network) await cdp.send('Network.emulateNetworkConditions', profile.network);

    await page.goto(opts.page, { waitUntil: 'load', timeout: TIMEOUT });
    await within(page.evaluate(() => window.__nmBench.button), 'the launcher button');
    await page.waitForTimeout(1000);
    const before = done.slice();
    const inFlight = [...urls.values()].filter((u) => u.startsWith(opts.server)).length - before.length;

    const box = await page.evaluate(() => {
      const r = document.querySelector('nearmiss-widget').shadowRoot.querySelector('.launcher').getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
    });
    await page.mouse.move(box.x, box.y);
    await page.mouse.click(box.x, box.y);
    await within(page.evaluate(() => window.__nmBench.interactive), 'the score control after the click');
    // Long tasks and layout shifts are reported a little after they happen.
    await page.waitForTimeout(500);
    const m = await page.evaluate(() => {
      const nm = window.__nmBench;
      const script = performance.getEntriesByType('resource').find((e) => /\/nearmiss\.js(\?|$)/.test(e.name));
      return { ...nm, button: undefined, interactive: undefined, scriptEnd: script ? script.responseEnd : null };
    });
    if (m.scriptEnd == null) throw new Error('no resource timing entry for nearmiss.js');
    return {
      bytes: before.reduce((sum, r) => sum + r.bytes, 0),
      files: before.map((r) => new URL(r.url).pathname).join(' '),
      in_flight: inFlight,
      button_ms: m.buttonAt - m.scriptEnd,
      interactive_ms: m.interactiveAt - m.clickAt,
      hover_ms: m.hoverAt == null ? null : m.interactiveAt - m.hoverAt,
      longest_task_ms: m.longest,
      // When the longest task started, from the click (negative: before it).
      longest_task_at_ms: m.longestAt == null ? null : m.longestAt - m.clickAt,
      cls: m.cls,
      shifts: m.shifts
        .map((x) => `${x.value.toFixed(3)} at ${x.at - m.clickAt >= 0 ? '+' : ''}${Math.round(x.at - m.clickAt)} ms from the click (${x.what})`)
        .join('\n'),
      problems: problems.join('\n'),
    };
  } finally {
    await context.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const [name, profile] of Object.entries(PROFILES)) {
  for (let run = 1; run <= opts.runs; run++) {
    let line;
    try {
      line = { profile: name, run, ...(await load(profile)) };
    } catch (e) {
      // The browser not starting is fatal; a load that fails is reported with the others.
      if (e.launch) {
        console.error(`could not run Chromium (${opts.chromium}) through playwright-core: ${e.message}`);
        process.exit(1);
      }
      line = { profile: name, run, error: String(e.message).split('\n')[0] };
    }
    process.stdout.write(JSON.stringify(line) + '\n');
  }
}
