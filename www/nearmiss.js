// nearmiss loader: the script tag a business pastes, and all that a page view pays for
// until a customer shows intent. It draws the floating button itself; the widget (its
// glue, the wasm and the site's settings) downloads on intent: a pointer over the button
// (a touch makes one too) or keyboard focus. `data-preload=idle` downloads it when the
// browser is idle, `data-trigger=open` at once, `manual` on the first nearmiss('open').
// A tap before it has arrived opens it as soon as it has; calls to nearmiss(...) wait in
// a queue until then.
//
// The outbox (www/outbox.js) travels in the glue: a page where something from an
// earlier page still waits downloads the glue (not the wasm) to send it.
// `cargo xtask build` fills in the hashed names, inlines www/facade.js, minifies it, and
// writes it once for each language with that language's button label.
(function (w, d) {
  // A tag removed before it ran (an app's `destroy` right after `init`) starts nothing.
  var s = d.currentScript;
  if (!s?.isConnected || w.__nearmiss) return;
  w.__nearmiss = 1;
  /*FACADE*/
  // Inline (`data-mount`) asks at once unless told otherwise. A setup mistake (a wrong
  // origin or site key) found on an earlier page keeps the widget hidden in this browser
  // for an hour, so customers are not shown a button that goes away when they reach for
  // it.
  var a = s.dataset, q = (w.nearmiss && w.nearmiss.q) || [], trigger = a.trigger || (a.mount ? 'open' : 'button'),
    memo = 'nearmiss:hidden:' + a.site, hidden, loading, glue, box;
  // The memo is the time it was written (13 digits) and the message. No exception when
  // there is none (the usual case): one cost more than the rest of the check (~1 ms of
  // CPU, or ~5 ms at 4x CPU throttling).
  try {
    if (Date.now() - parseInt(hidden = localStorage[memo]) < 36e5) console.error(loading = hidden.slice(13));
  } catch (e) {}
  // The label is the page's (`data-label`), or ours in the customer's language: the
  // server sends this file in the one their browser asks for first.
  var root = facade(d, !loading && trigger == 'button' && (a.label || '__NEARMISS_LAUNCHER__'),
      a.position, a.nonce),
    b = root.querySelector('button'),
    endpoint = a.endpoint || new URL(s.src).origin,
    // A URL: fetch and import() both take one.
    u = function (f) { return new URL('widget/' + f, s.src); },
    outbox = function () {
      return (glue = glue || import(u('__NEARMISS_GLUE__'))).then(function (m) {
        return box = box || m.outbox(w);
      });
    };
  // What an earlier page left waiting (the keys as one string: shorter than a loop).
  try {
    if (/nearmiss:o:/.test(Object.keys(localStorage))) outbox().then(function (o) { o.flush(1); }, function () {});
  } catch (e) {}
  // Asked twice when the network fails (a tap that fails, the next one tries again).
  // `[a.lang]`: "" without one. Keys and language tags need no escaping.
  var settings = endpoint + '/v1/sites/' + a.site + '/widget?lang=' + [a.lang];
  // A setup mistake would have every rating refused: the widget goes away and says why,
  // once, on the console (a wrong origin is also counted on the server for the owner).
  var hide = function (why) {
    loading = 'nearmiss: hidden, as ' + why;
    root.host.remove();
    console.error(loading);
    try { localStorage[memo] = Date.now() + loading; } catch (e) {}
  };
  var load = function () {
    if (loading) return;
    // The wasm downloads while the glue and the settings do.
    var wasm = fetch(u('__NEARMISS_WASM__'));
    loading = Promise.all([
      outbox(),
      fetch(settings).catch(function () { return fetch(settings); }).then(function (r) {
        if (!r.ok) throw r.status;
        return r.json();
      }),
      glue.then(function (m) { return m.default({ module_or_path: wasm }); })
    ]).then(function (r) {
      // Destroyed while it downloaded (an app's `destroy` marks the tag gone).
      if (a.gone) return;
      var c = r[1];
      if (c.origin_allowed === false) return hide(location.origin + ' is not an origin of site ' + a.site);
      if (!b) place(d, root, a.mount);
      glue.then(function (m) {
        // The data- attributes as they are (site, trigger, interaction, interactionToken,
        // lang, label, theme, position, mount, nonce, rerate), with what the loader made.
        m.boot({ ...a, outbox: r[0], config: c, endpoint: endpoint, root: root });
        // The queued calls (a tap's 'open': the first render) in a task of their own: with
        // the boot, one task of over 50 ms at 4x CPU throttling.
        setTimeout(function () {
          if (b) b.ariaBusy = null;
          w.nearmiss = m.command;
          q.map(function (c) { m.command(...c); });
        });
      });
    }, function (e) {
      if (e == 404) return hide('no site has the key ' + a.site);
      // The next sign of intent tries again.
      loading = glue = 0;
      if (b) b.ariaBusy = null;
      console.warn('nearmiss: no widget', e);
    });
  };
  w.nearmiss = function (c) {
    q.push(arguments);
    if (c == 'open') load();
  };
  if (b) {
    b.onpointerover = b.onfocus = load;
    b.onclick = function () {
      // ARIA's reflection: null removes the attribute.
      if (w.nearmiss.q) b.ariaBusy = 'true';
      w.nearmiss('open');
    };
  }
  w.nearmiss.q = q;
  if (trigger == 'open' || q.some(function (c) { return c[0] == 'open'; })) load();
  else if (a.preload == 'idle') (w.requestIdleCallback || setTimeout)(load);
})(window, document);
