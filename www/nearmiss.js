// nearmiss loader: reads the script tag's data- attributes, keeps nearmiss(...) calls
// made before the widget is ready, sends what the outbox kept from earlier pages, and
// loads the content-hashed wasm from the origin this script came from. `cargo xtask
// build` fills in the hashed names, inlines www/outbox.js, and minifies it.
(function (w, d) {
  var s = d.currentScript;
  if (!s || w.__nearmiss) return;
  w.__nearmiss = 1;
  /*OUTBOX*/
  var box = outbox(w), send = function () { box.flush(true); };
  send();
  d.addEventListener('visibilitychange', function () { if (d.visibilityState === 'hidden') send(); });
  w.addEventListener('online', send);
  var a = s.dataset, q = (w.nearmiss && w.nearmiss.q) || [];
  w.nearmiss = function () { q.push(arguments); };
  var u = function (f) { return new URL('widget/' + f, s.src).href; };
  var endpoint = a.endpoint || new URL(s.src).origin;
  // The site's settings download while the wasm does; tried twice on a flaky network.
  var settings = function () {
    return fetch(endpoint + '/v1/sites/' + encodeURIComponent(a.site) + '/widget').then(function (r) {
      if (!r.ok) throw r.status;
      return r.json();
    });
  };
  var config = settings().catch(function (e) {
    if (e >= 400 && e < 500) throw e;
    return new Promise(function (ok) { setTimeout(ok, 1500); }).then(settings);
  });
  // A setup mistake would have every rating refused: the widget stays hidden from
  // customers and says why, once, on the console (a wrong origin is also counted on the
  // server for the owner). Settings that did not load otherwise still let it start.
  var hidden = function (why) { throw console.error('nearmiss: ' + why + ', so the widget stays hidden'); };
  var allowed = config.then(function (c) {
    if (c.origin_allowed === false) hidden(location.origin + ' is not an origin of site ' + a.site + ' (add it to the site)');
  }, function (e) {
    if (e == 404) hidden('no site has the key ' + a.site + ' (data-site)');
  });
  // The wasm downloads while the glue does, not after it.
  var wasm = fetch(u('__NEARMISS_WASM__'));
  import(u('__NEARMISS_GLUE__')).then(function (m) {
    return Promise.all([m.default({ module_or_path: wasm }), allowed]).then(function () {
      m.boot({
        site: a.site, trigger: a.trigger, interaction: a.interaction,
        token: a.interactionToken, lang: a.lang, rerate: a.rerate, outbox: box,
        config: config, endpoint: endpoint
      });
      w.nearmiss = function (c, x, y) { m.command(c, x, y); };
      for (var i = 0; i < q.length; i++) w.nearmiss.apply(w, q[i]);
    });
  }).catch(function (e) { if (e) console.warn('nearmiss: the widget could not load', e); });
})(window, document);
