// nearmiss loader: reads the script tag's data- attributes, keeps nearmiss(...) calls
// made before the widget is ready, and loads the content-hashed wasm from the origin
// this script came from. `cargo xtask build` fills in the hashed names and strips
// these comments.
(function (w, d) {
  var s = d.currentScript;
  if (!s || w.__nearmiss) return;
  w.__nearmiss = 1;
  var a = s.dataset, q = (w.nearmiss && w.nearmiss.q) || [];
  w.nearmiss = function () { q.push(arguments); };
  var u = function (f) { return new URL('widget/' + f, s.src).href; };
  import(u('__NEARMISS_GLUE__')).then(function (m) {
    return m.default({ module_or_path: u('__NEARMISS_WASM__') }).then(function () {
      m.boot({
        site: a.site, trigger: a.trigger, interaction: a.interaction,
        token: a.interactionToken, lang: a.lang, rerate: a.rerate,
        endpoint: a.endpoint || new URL(s.src).origin
      });
      w.nearmiss = function (c, x, y) { m.command(c, x, y); };
      for (var i = 0; i < q.length; i++) w.nearmiss.apply(w, q[i]);
    });
  }).catch(function (e) { console.warn('nearmiss: the widget could not load', e); });
})(window, document);
