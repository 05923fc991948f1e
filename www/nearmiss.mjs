// nearmiss as an ES module, for apps that bundle their code (`/nearmiss.mjs`, typed by
// `/nearmiss.d.ts`): the script tag's `nearmiss(...)` API as functions. `init` adds the
// script tag, its options being the tag's data- attributes in camelCase; `destroy`
// removes the widget with every listener it added, and the tag, so that a single-page
// app may `init` again on its next page, any number of times.
var tag;

// The command queue the script tag reads, as the page snippet makes it.
function call() {
  var w = window;
  w.nearmiss = w.nearmiss || function () { (w.nearmiss.q = w.nearmiss.q || []).push(arguments); };
  w.nearmiss.apply(w, arguments);
}

export function init(options) {
  if (tag) return;
  tag = document.createElement('script');
  // Beside this module, or at `endpoint` when an app's bundler moved the module.
  tag.src = new URL('nearmiss.js', options.endpoint ? options.endpoint + '/' : import.meta.url).href;
  tag.async = true;
  for (var key in options) if (options[key] != null) tag.dataset[key] = options[key];
  // A widget destroyed before it had started may have left the loader's mark.
  window.__nearmiss = 0;
  document.head.appendChild(tag);
}

export function open(options) { call('open', options); }
export function close() { call('close'); }
export function on(event, callback) { call('on', event, callback); }

export function destroy() {
  call('destroy');
  // Before the widget has started, the loader's button is all there is.
  document.querySelectorAll('nearmiss-widget').forEach(function (el) { el.remove(); });
  // A loader still downloading starts nothing.
  if (tag) tag.dataset.gone = 1, tag.remove();
  tag = undefined;
  delete window.nearmiss;
  window.__nearmiss = 0;
}
