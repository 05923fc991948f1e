// nearmiss loader: the script tag a business pastes. It draws the floating button
// itself and downloads the widget (its glue, the wasm and the site's settings) only when
// a customer shows intent: a pointer over the button, focus, a touch. `data-preload=idle`
// downloads it when the browser is idle; `data-trigger=open` at once; `manual` on the
// first nearmiss('open'). A tap before it has arrived opens it as soon as it has.
// Calls to nearmiss(...) before then wait in a queue. It also sends what the outbox
// kept from earlier pages. `cargo xtask build` fills in the hashed names, inlines
// www/outbox.js and www/facade.js, and minifies it.
(function (w, d) {
  var s = d.currentScript;
  if (!s || w.__nearmiss) return;
  w.__nearmiss = 1;
  /*OUTBOX*/
  /*FACADE*/
  var box = outbox(w), flush = function () { box.flush(1); };
  flush();
  d.addEventListener('visibilitychange', function () { if (d.visibilityState == 'hidden') flush(); });
  w.addEventListener('online', flush);
  var a = s.dataset, q = (w.nearmiss && w.nearmiss.q) || [], trigger = a.trigger || 'button',
    root = facade(d, trigger == 'button'), b = root.querySelector('button'), loading,
    endpoint = a.endpoint || new URL(s.src).origin,
    u = function (f) { return new URL('widget/' + f, s.src).href; };
  // Tried twice on a flaky network; a refusal (4xx) at once.
  var settings = function () {
    return fetch(endpoint + '/v1/sites/' + encodeURIComponent(a.site) + '/widget').then(function (r) {
      if (!r.ok) throw r.status;
      return r.json();
    });
  };
  // A setup mistake would have every rating refused: the widget goes away and says why,
  // once, on the console (a wrong origin is also counted on the server for the owner).
  var hide = function (why) {
    loading = 1;
    root.host.remove();
    console.error('nearmiss: ' + why + ', so the widget stays hidden');
  };
  var load = function () {
    if (loading) return;
    // The wasm downloads while the glue and the settings do.
    var wasm = fetch(u('__NEARMISS_WASM__'));
    loading = Promise.all([
      import(u('__NEARMISS_GLUE__')).then(function (m) {
        return m.default({ module_or_path: wasm }).then(function () { return m; });
      }),
      settings().catch(function (e) {
        if (e >= 400 && e < 500) throw e;
        return new Promise(function (ok) { setTimeout(ok, 1500); }).then(settings);
      })
    ]).then(function (r) {
      var m = r[0], c = r[1];
      if (c.origin_allowed === false) return hide(location.origin + ' is not an origin of site ' + a.site + ' (add it to the site)');
      if (b) b.removeAttribute('aria-busy');
      else place(d, root);
      m.boot({
        site: a.site, trigger: trigger, interaction: a.interaction, token: a.interactionToken,
        lang: a.lang, rerate: a.rerate, outbox: box, config: c, endpoint: endpoint, root: root
      });
      w.nearmiss = function (c, x, y) { m.command(c, x, y); };
      for (var i = 0; i < q.length; i++) w.nearmiss.apply(w, q[i]);
    }, function (e) {
      if (e == 404) return hide('no site has the key ' + a.site + ' (data-site)');
      // The next sign of intent tries again.
      loading = 0;
      if (b) b.removeAttribute('aria-busy');
      console.warn('nearmiss: the widget could not load', e);
    });
  };
  w.nearmiss = function (c) {
    q.push(arguments);
    if (c == 'open') load();
  };
  if (b) {
    ['pointerover', 'touchstart', 'focus'].forEach(function (e) { b.addEventListener(e, load, { passive: true }); });
    b.onclick = function () {
      if (w.nearmiss.q) b.setAttribute('aria-busy', 'true');
      w.nearmiss('open');
    };
  }
  w.nearmiss.q = q;
  if (trigger == 'open' || q.some(function (c) { return c[0] == 'open'; })) load();
  else if (a.preload == 'idle') (w.requestIdleCallback || setTimeout)(load);
})(window, document);
