// nearmiss facade: the widget's element, made by the loader before any wasm is
// downloaded: <nearmiss-widget> with an open shadow root and its frame. For the "button"
// trigger it draws the floating button and puts the element on the page at once; for
// the others the loader does that when the widget starts. The wasm draws its panel in
// the same frame.
// `cargo xtask build` inlines it into nearmiss.js; the widget's browser tests import it.
//
// The host is reset with !important: in the cascade, a shadow tree's important rules
// beat the page's, so no page rule can hide or restyle it. A constructed stylesheet
// needs no 'unsafe-inline' in the page's CSP; a <style> element is the fallback.
export function facade(d, button) {
  var host = d.createElement('nearmiss-widget'), root = host.attachShadow({ mode: 'open' }),
    frame = d.createElement('div'), sheet,
    css = ':host{all:initial!important;display:block!important}' +
      '.frame{--nm-accent:#0b57d0;--nm-ink:#1f1f1f;--nm-muted:#5f6368;--nm-surface:#fff;--nm-lit:#f4b400;' +
      'font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--nm-ink);' +
      'position:fixed;right:16px;bottom:16px;z-index:2147483647;max-width:calc(100vw - 32px);' +
      'display:flex;flex-direction:column;align-items:flex-end}' +
      '[hidden]{display:none!important}button{font:inherit;cursor:pointer}' +
      'button:focus-visible{outline:3px solid var(--nm-accent);outline-offset:2px}' +
      '.launcher{background:var(--nm-accent);color:#fff;border:0;border-radius:999px;padding:10px 18px;' +
      'box-shadow:0 2px 8px rgba(0,0,0,.25)}.launcher[aria-busy]{cursor:progress}' +
      '@media (max-width:480px){.frame{right:8px;left:8px;bottom:8px}}';
  frame.className = 'frame';
  try {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch (e) {
    frame.appendChild(d.createElement('style')).textContent = css;
  }
  root.appendChild(frame);
  if (button) {
    button = frame.appendChild(d.createElement('button'));
    button.className = 'launcher';
    button.textContent = 'Rate your visit';
    place(d, root);
  }
  return root;
}

export function place(d, root) {
  (d.body || d.documentElement).appendChild(root.host);
}
