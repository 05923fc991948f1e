// nearmiss facade: the widget's element, made by the loader before any wasm is
// downloaded: <nearmiss-widget> with an open shadow root and its frame. For the "button"
// trigger it draws the floating button with its `label` and puts the element on the page
// at once; for the others (no label) the loader does that when the widget starts. The wasm draws its panel in
// the same frame.
// `cargo xtask build` inlines it into nearmiss.js; the widget's browser tests import it.
//
// The host is reset with !important: in the cascade, a shadow tree's important rules
// beat the page's, so no page rule can hide or restyle it. A constructed stylesheet
// needs no 'unsafe-inline' in the page's CSP; a <style> element is the fallback.
// The launcher is fixed to the corner by itself, out of the frame's flow: the frame is
// empty (no box) until the panel shows, so the panel appearing moves nothing that was on
// screen (a frame growing from the button's size to the panel's was a layout shift).
export function facade(d, label) {
  var host = d.createElement('nearmiss-widget'), root = host.attachShadow({ mode: 'open' }),
    frame = d.createElement('div'), sheet, button,
    css = ':host{all:initial!important;display:block!important}' +
      '.frame,.launcher{position:fixed;right:16px;bottom:16px}' +
      '.frame{font:15px/1.45 system-ui,sans-serif;color:#1f1f1f;z-index:2147483647}[hidden]{display:none!important}' +
      '.launcher{font:inherit;min-height:44px;cursor:pointer;background:#0b57d0;color:#fff;border:0;border-radius:99px;' +
      'padding:10px 18px;box-shadow:0 2px 8px #0004}:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}';
  frame.className = 'frame';
  try {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch (e) {
    frame.appendChild(d.createElement('style')).textContent = css;
  }
  root.appendChild(frame);
  if (label) {
    button = frame.appendChild(d.createElement('button'));
    button.className = 'launcher';
    button.textContent = label;
    place(d, root);
  }
  return root;
}

export function place(d, root) {
  (d.body || d.documentElement).appendChild(root.host);
}
