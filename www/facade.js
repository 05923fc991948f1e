// nearmiss facade: the widget's element, made by the loader before any wasm is
// downloaded: <nearmiss-widget> with an open shadow root and its frame. For the "button"
// trigger it draws the floating button with its `label` (in the bottom-left corner for
// that `position`) and puts the element on the page at once; for the others (no label) the loader
// does that when the widget starts. `nonce` is the page's CSP nonce, for the fallback
// <style>. The wasm draws its panel in
// the same frame.
// `cargo xtask build` inlines it into nearmiss.js; the widget's browser tests import it.
//
// The host is reset with !important: in the cascade, a shadow tree's important rules
// beat the page's, so no page rule can hide or restyle it. A constructed stylesheet
// needs no 'unsafe-inline' in the page's CSP; a <style> element is the fallback.
// The launcher is fixed to the corner by itself, out of the frame's flow: the frame is
// empty (no box) until the panel shows, so the panel appearing moves nothing that was on
// screen (a frame growing from the button's size to the panel's was a layout shift).
export function facade(d, label, position, nonce) {
  var host = d.createElement('nearmiss-widget'), root = host.attachShadow({ mode: 'open' }),
    frame = d.createElement('div'), sheet, button,
    // The launcher alone: the panel's stylesheet comes with the wasm. The page's custom
    // properties reach in (`all` leaves them alone): --nearmiss-accent (else the site's,
    // which the widget sets as --s) and --nearmiss-font. Text on the accent is white or
    // black, whichever has the more contrast by WCAG's luminance (relative colour
    // syntax); where that is unsupported the colour is invalid when computed, and the
    // host's white is inherited instead.
    css = ':host{all:initial!important;display:block!important;color:#fff!important}' +
      '.launcher{--a:var(--nearmiss-accent,var(--s,#0b57d0));position:fixed;right:16px;bottom:16px;z-index:2147483647;' +
      'font:15px var(--nearmiss-font,system-ui);min-height:44px;cursor:pointer;background:var(--a);' +
      'border:0;border-radius:99px;padding:10px 18px;box-shadow:0 2px 8px #0004;' +
      '--q:clamp(0,(.18 - .21*r - .72*g - .07*b)*1e4,1);color:color(from var(--a) srgb-linear var(--q) var(--q) var(--q))}' +
      '.bottom-left .launcher{left:16px;right:auto}';
  // `position`: the corner, `bottom-left` or the default.
  frame.className = 'frame ' + position;
  try {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch (e) {
    sheet = frame.appendChild(d.createElement('style'));
    sheet.nonce = nonce;
    sheet.textContent = css;
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

// Inline (`data-mount`): into the page's element; floating: onto the body.
export function place(d, root, mount) {
  (mount && d.querySelector(mount) || d.body || d.documentElement).appendChild(root.host);
}
