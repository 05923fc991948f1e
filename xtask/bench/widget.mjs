// `cargo xtask bench widget`'s browser side: loads the bench page in headless Chromium
// (through playwright-core, driving the system's /usr/bin/chromium over the DevTools
// protocol) `runs` times per profile, and prints one line per load on stdout: tab-separated
// `key=value` fields, a list's key once per item, an unknown figure empty.
// xtask/src/bench_widget.rs starts the servers, runs this and makes the table.
//
// Usage: node widget.mjs PLAYWRIGHT_INDEX_MJS CHROMIUM PAGE_URL SERVER_URL RUNS [TRACE_DIR]
// With a trace folder, each load also records a DevTools trace there, PROFILE-RUN.json
// (open it in DevTools' Performance panel); tracing slows the page down.
//
// What is measured, and from when (all on the page's own clock, performance.now()):
// - "button drawn": from the loader's first statement (its read of document.currentScript,
//   which an async script needs to find its tag) to the end of the first frame rendered
//   with the button in it; "script ran", from the same start to the script's end (the
//   first microtask after it), is the loader's own part of that. The wait between
//   nearmiss.js arriving and the page's main thread running it (the page's own parsing
//   and first frame) is reported apart.
// - "intent → interactive": from the first pointer over the button (the loader's sign of
//   intent, when the widget starts downloading; a tap makes one too) to the end of the
//   first frame rendered with the score radios visible. The click comes just after it.
// - the longest main-thread task from the loader's start to intent (the page's own load
//   before the loader is not the widget's; its first frame may come after it, with the
//   button in it), and the longest from intent on, each with what ran in it (from its
//   Long Animation Frame: scripts, rendering, the page's first paint);
// - layout shifts not caused by input, with what moved;
// - every response the page received before intent, from any origin, but its own HTML.
// The page is never evaluated into while it is measured (playwright's helper script
// would be a task of its own): it reports through console.debug, and is read once at
// the end.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [playwright, chromiumPath, pageUrl, server, runs, trace] = process.argv.slice(2);
const opts = { playwright, chromium: chromiumPath, page: pageUrl, server, runs: +runs, trace };
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
// What DevTools' Performance panel records, and the wasm compiler's steps.
const TRACE_CATEGORIES = [
  'devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.frame',
  'disabled-by-default-devtools.timeline.stack', 'v8.execute', 'disabled-by-default-v8.compile', 'v8.wasm',
  'blink.user_timing', 'loading', 'latencyInfo', 'disabled-by-default-layout_shift.debug', 'toplevel',
];
// What the page says on the console for the bench (console.debug, with this prefix).
const SIGNAL = '__nmBench ';

// Runs in the page before any of its scripts. Timestamps come from MutationObservers and
// event timestamps (no polling, which would compete with the widget for the throttled
// CPU); nothing here forces a style or layout while the widget's code runs.
const INIT = (SIGNAL) => {
  const nm = (window.__nmBench = {
    startAt: null, ranAt: null, buttonAt: null, intentAt: null, clickAt: null, interactiveAt: null,
    tasks: [], frames: [], shifts: [], cls: 0,
  });
  const say = (what, data) => console.debug(SIGNAL + JSON.stringify({ what, ...data }));
  // The loader's first statement reads document.currentScript.
  const current = Object.getOwnPropertyDescriptor(Document.prototype, 'currentScript');
  Object.defineProperty(Document.prototype, 'currentScript', {
    configurable: true,
    get() {
      const script = current.get.call(this);
      if (nm.startAt == null && script && /\/nearmiss\.js(\?|$)/.test(script.src)) nm.startAt = performance.now();
      return script;
    },
  });
  // After the next frame is rendered: a message posted from requestAnimationFrame is
  // handled once that frame's style, layout and paint are done. The channel is made now:
  // made in the frame, it cost that frame ~10 ms at 4x CPU throttling.
  const channel = new MessageChannel(), after = [];
  channel.port1.onmessage = () => after.shift()(performance.now());
  const afterFrame = (then) => requestAnimationFrame(() => {
    after.push(then);
    channel.port2.postMessage(0);
  });
  const observe = (type, f) => {
    try {
      new PerformanceObserver((list) => list.getEntries().forEach(f)).observe({ type, buffered: true });
    } catch (e) {}
  };
  observe('longtask', (e) => nm.tasks.push({ at: e.startTime, ms: e.duration }));
  // Which scripts ran in a long frame: to name what a long task was.
  observe('long-animation-frame', (e) => nm.frames.push({
    at: e.startTime, end: e.startTime + e.duration, render: e.renderStart, layout: e.styleAndLayoutStart,
    scripts: e.scripts.map((s) => ({ at: s.startTime, ms: s.duration, url: s.sourceURL, invoker: s.invoker })),
  }));
  const root = () => document.querySelector('nearmiss-widget')?.shadowRoot;
  // A shift's node inside the shadow root is not exposed (null): it is found by its box.
  const name = (source) => {
    const el = source.node;
    if (el) return el.nodeName.toLowerCase() + (el.className ? '.' + el.className : '');
    const r = source.currentRect;
    for (const x of root()?.querySelectorAll('*') || []) {
      const b = x.getBoundingClientRect();
      if (Math.abs(b.x - r.x) < 1 && Math.abs(b.y - r.y) < 1 && Math.abs(b.width - r.width) < 1 && Math.abs(b.height - r.height) < 1) {
        return 'nearmiss-widget > ' + x.localName + (x.className ? '.' + x.className : '');
      }
    }
    return '?';
  };
  const rect = (r) => `${Math.round(r.x)},${Math.round(r.y)} ${Math.round(r.width)}×${Math.round(r.height)}`;
  observe('layout-shift', (e) => {
    if (e.hadRecentInput) return;
    nm.cls += e.value;
    const what = e.sources.map((s) => `${name(s)} ${rect(s.previousRect)} → ${rect(s.currentRect)}`);
    nm.shifts.push({ at: e.startTime, value: e.value, what: what.join('; ') || '?' });
  });
  let watching = false, waitingButton = false, waitingRadios = false;
  const check = () => {
    const shadow = root();
    if (!shadow) return;
    if (!watching) {
      watching = true;
      new MutationObserver(check).observe(shadow, { subtree: true, childList: true, attributeFilter: ['hidden'] });
    }
    if (!waitingButton && shadow.querySelector('.launcher')) {
      waitingButton = true;
      nm.ranAt = performance.now();
      afterFrame((t) => {
        nm.buttonAt = t;
        const r = shadow.querySelector('.launcher').getBoundingClientRect();
        say('button', { x: r.x + r.width / 2, y: r.y + r.height / 2 });
      });
    }
    if (nm.intentAt != null && !waitingRadios && shadow.querySelector('[role=radio]')) {
      waitingRadios = true;
      afterFrame((t) => {
        // Visible once that frame is done (no style forced meanwhile); else the next
        // change to the shadow root looks again.
        const radio = shadow.querySelector('[role=radio]');
        if (radio && radio.checkVisibility()) {
          nm.interactiveAt = t;
          say('interactive', {});
        } else waitingRadios = false;
      });
    }
  };
  // Capture phase on window: before the launcher's own handlers. Event timestamps are
  // when the input happened, not when the main thread got to it.
  addEventListener('pointerover', (e) => {
    if (nm.intentAt == null && e.target.localName === 'nearmiss-widget') nm.intentAt = e.timeStamp;
  }, true);
  addEventListener('click', (e) => {
    if (nm.clickAt == null) nm.clickAt = e.timeStamp;
    if (nm.intentAt == null) nm.intentAt = e.timeStamp;
    check();
  }, true);
  new MutationObserver(check).observe(document, { subtree: true, childList: true });
};

async function load(profile, traceFile) {
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
    const signals = {};
    const signalled = (what) => new Promise((resolve) => (signals[what] = resolve));
    const button = signalled('button'), interactive = signalled('interactive');
    page.on('console', (m) => {
      const text = m.text();
      if (m.type() === 'debug' && text.startsWith(SIGNAL)) {
        const data = JSON.parse(text.slice(SIGNAL.length));
        signals[data.what]?.(data);
      } else if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${text}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    await page.addInitScript(INIT, SIGNAL);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    // Bytes as the network saw them (headers and encoded body): the page is on another
    // origin and the server sends no Timing-Allow-Origin, so Resource Timing's
    // transferSize is 0 for the widget's files. Every request counts, from any origin,
    // finished or not (then with what had arrived), but the page's own HTML.
    const requests = new Map();
    cdp.on('Network.requestWillBeSent', (e) => {
      if (e.type !== 'Document') requests.set(e.requestId, { url: e.request.url, bytes: 0, done: false });
    });
    cdp.on('Network.dataReceived', (e) => {
      const r = requests.get(e.requestId);
      if (r) r.bytes += e.encodedDataLength;
    });
    const finish = (e) => {
      const r = requests.get(e.requestId);
      if (r) Object.assign(r, { done: true }, e.encodedDataLength ? { bytes: e.encodedDataLength } : {});
    };
    cdp.on('Network.loadingFinished', finish);
    cdp.on('Network.loadingFailed', finish);
    if (profile.cpu) await cdp.send('Emulation.setCPUThrottlingRate', { rate: profile.cpu });
    if (profile.network) await cdp.send('Network.emulateNetworkConditions', profile.network);
    const events = [];
    if (traceFile) {
      cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
      await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: TRACE_CATEGORIES } });
    }

    await page.goto(opts.page, { waitUntil: 'load', timeout: TIMEOUT });
    const box = await within(button, 'the launcher button');
    // Time for whatever would download before intent (an idle-time preload would).
    await page.waitForTimeout(1000);
    const before = [...requests.values()].map((r) => ({ ...r }));

    await page.mouse.move(box.x, box.y);
    await page.mouse.click(box.x, box.y);
    await within(interactive, 'the score control after the click');
    // Long tasks and layout shifts are reported a little after they happen.
    await page.waitForTimeout(500);
    if (traceFile) {
      const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
      await cdp.send('Tracing.end');
      await complete;
      writeFileSync(traceFile, JSON.stringify({ traceEvents: events }));
    }
    const m = await page.evaluate(() => {
      const nm = window.__nmBench;
      const script = performance.getEntriesByType('resource').find((e) => /\/nearmiss\.js(\?|$)/.test(e.name));
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      return { ...nm, scriptEnd: script ? script.responseEnd : null, fcp: fcp ? fcp.paintTime ?? fcp.startTime : null };
    });
    if (m.startAt == null) throw new Error('the loader never read document.currentScript');
    // The page's own load, before the loader started, is not the widget's.
    const longest = (from, to) => m.tasks
      .filter((t) => t.at + t.ms > from && t.at < to)
      .reduce((a, t) => (t.ms > a.ms ? t : a), { ms: 0, at: null });
    const load = longest(m.startAt, m.intentAt), intent = longest(m.intentAt, Infinity);
    return {
      bytes: before.reduce((sum, r) => sum + r.bytes, 0),
      files: before.map((r) => shortUrl(r.url) + (r.done ? '' : ' (unfinished)')).join(' '),
      in_flight: before.filter((r) => !r.done).length,
      wait_ms: m.scriptEnd == null ? null : m.startAt - m.scriptEnd,
      ran_ms: m.ranAt - m.startAt,
      button_ms: m.buttonAt - m.startAt,
      interactive_ms: m.interactiveAt - m.intentAt,
      click_ms: m.interactiveAt - m.clickAt,
      load_task_ms: load.ms,
      // When it started, from the loader's start.
      load_task_at_ms: load.at == null ? null : load.at - m.startAt,
      load_task_what: load.at == null ? '' : what(load, m),
      intent_task_ms: intent.ms,
      // When it started, from intent.
      intent_task_at_ms: intent.at == null ? null : intent.at - m.intentAt,
      intent_task_what: intent.at == null ? '' : what(intent, m),
      cls: m.cls,
      shift: m.shifts
        .map((x) => `${x.value.toFixed(4)} at ${x.at - m.intentAt >= 0 ? '+' : ''}${Math.round(x.at - m.intentAt)} ms from intent: ${x.what}`),
      problem: problems,
    };
  } finally {
    await context.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

const within = (promise, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no result within ${TIMEOUT / 1000} s`)), TIMEOUT)),
  ]);

// The server's files by path, anything else by its whole URL.
const shortUrl = (url) => (url.startsWith(opts.server) ? url.slice(opts.server.length) : url);

// What ran in a long task, from the long animation frame it was part of: each script
// (the widget's glue and wasm run from promise reactions and timers; the bench's own,
// with no URL, are left out) and the frame's rendering; and whether the page's first
// paint was that frame's.
function what(task, m) {
  const end = task.at + task.ms;
  const parts = [];
  for (const f of m.frames.filter((f) => f.at < end && f.end > task.at)) {
    for (const s of f.scripts) {
      if (s.url && s.at < end && s.at + s.ms > task.at) parts.push(`${s.invoker.replace(s.url, shortUrl(s.url))} ${Math.round(s.ms)} ms`);
    }
    if (f.render && f.render < end && f.end > task.at) {
      parts.push(`rendering ${Math.round(f.end - f.render)} ms (style, layout and paint ${Math.round(f.end - f.layout)})`);
    }
  }
  if (m.fcp != null && m.fcp >= task.at && m.fcp <= end) parts.push("the page's first paint");
  return parts.join(', ') || 'no script or rendering named';
}

// `key=value` tab-separated, an array's key once per item; tabs and line breaks in a
// value become spaces.
const fields = (line) => Object.entries(line)
  .flatMap(([key, value]) => (Array.isArray(value) ? value : [value])
    .map((v) => `${key}=${v == null ? '' : String(v).replace(/[\t\r\n]/g, ' ')}`))
  .join('\t');

if (opts.trace) mkdirSync(opts.trace, { recursive: true });
for (const [name, profile] of Object.entries(PROFILES)) {
  for (let run = 1; run <= opts.runs; run++) {
    let line;
    try {
      line = { profile: name, run, ...(await load(profile, opts.trace && join(opts.trace, `${name}-${run}.json`))) };
    } catch (e) {
      // The browser not starting is fatal; a load that fails is reported with the others.
      if (e.launch) {
        console.error(`could not run Chromium (${opts.chromium}) through playwright-core: ${e.message}`);
        process.exit(1);
      }
      line = { profile: name, run, error: String(e.message).split('\n')[0] };
    }
    process.stdout.write(fields(line) + '\n');
  }
}
