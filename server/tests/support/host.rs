//! A business's web page on another origin (a small axum server in its own thread),
//! served with the Content-Security-Policy a test chooses, embedding the widget from the
//! nearmiss server with the one script tag. `spy.js` records CSP violations and console
//! messages for the test to read.

use axum::extract::Query;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;

const SPY: &str = r#"
// Every listener added and not removed, by target: __liveListeners() counts those on
// the window, the document, the visual viewport and connected nodes.
(function () {
  var held = new Map(), add = EventTarget.prototype.addEventListener,
    remove = EventTarget.prototype.removeEventListener;
  function key(type, fn, options) {
    return type + ' ' + !!(options === true || options && options.capture);
  }
  EventTarget.prototype.addEventListener = function (type, fn, options) {
    var list = held.get(this) || [], k = key(type, fn, options);
    if (!list.some(function (l) { return l.k == k && l.fn == fn; })) list.push({ k: k, fn: fn });
    held.set(this, list);
    return add.apply(this, arguments);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, options) {
    var list = held.get(this) || [], k = key(type, fn, options);
    held.set(this, list.filter(function (l) { return !(l.k == k && l.fn == fn); }));
    return remove.apply(this, arguments);
  };
  window.__liveListeners = function () {
    var count = 0;
    held.forEach(function (list, target) {
      var live = target === window || target === document || target === window.visualViewport ||
        (target.isConnected === true) || (target.host && target.host.isConnected);
      if (live) count += list.length;
    });
    return count;
  };
})();
window.__violations = [];
window.__console = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});
['log', 'info', 'warn', 'error'].forEach(function (level) {
  var original = console[level];
  console[level] = function () {
    window.__console.push(level + ': ' + Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
});
"#;

pub struct HostPage {
    /// The page's origin, like `http://127.0.0.1:41234`.
    pub origin: String,
    _thread: std::thread::JoinHandle<()>,
}

impl HostPage {
    /// Serves `/?site=KEY` with `csp`, embedding `nearmiss.js` from `collector`;
    /// `&trigger=` (`open` unless given), `&preload=`, `&theme=`, `&position=`,
    /// `&mount=`, `&lang=`, `&label=` and `&nonce=` become its `data-` attributes (the
    /// nonce also the page's scripts' own); `&app` loads `/app.js` instead, a module that
    /// imports `nearmiss.mjs` as `window.nm`.
    pub fn start(collector: &str, csp: &str) -> HostPage {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let (collector, csp) = (collector.to_owned(), csp.to_owned());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let app = Router::new()
                    .route(
                        "/",
                        get(
                            move |Query(query): Query<HashMap<String, String>>| async move {
                                let site = query.get("site").cloned().unwrap_or_default();
                                let trigger = query.get("trigger").map_or("open", |t| t);
                                // The other data- attributes a test may give.
                                let attributes: String = ["preload", "theme", "position", "mount", "lang", "label"]
                                    .iter()
                                    .filter_map(|name| {
                                        let value = query.get(*name)?;
                                        Some(format!(" data-{name}=\"{value}\""))
                                    })
                                    .collect();
                                // The page's nonce, on its own scripts and passed on.
                                let nonce = query
                                    .get("nonce")
                                    .map(|n| format!(" nonce=\"{n}\" data-nonce=\"{n}\""))
                                    .unwrap_or_default();
                                let spy_nonce = query
                                    .get("nonce")
                                    .map(|n| format!(" nonce=\"{n}\""))
                                    .unwrap_or_default();
                                // An app: the module, no script tag of the page's own.
                                let app = query.contains_key("app");
                                let widget = if app {
                                    format!(
                                        "<script type=\"module\" src=\"/app.js?collector={collector}\"></script>"
                                    )
                                } else {
                                    format!(
                                        "<script src=\"{collector}/nearmiss.js\" data-site=\"{site}\" \
                                         data-trigger=\"{trigger}\"{attributes}{nonce} async></script>"
                                    )
                                };
                                let page = format!(
                                    "<!doctype html><html lang=\"en\"><head><title>Host shop</title>\
                                 <meta name=\"viewport\" content=\"width=device-width\">\
                                 <script src=\"/spy.js\"{spy_nonce}></script></head>\
                                 <body><h1 id=\"host\">Thanks for your order</h1>\
                                 {widget}</body></html>"
                                );
                                (
                                    [
                                        (
                                            header::CONTENT_TYPE,
                                            "text/html; charset=utf-8".to_owned(),
                                        ),
                                        (header::CONTENT_SECURITY_POLICY, csp.clone()),
                                    ],
                                    page,
                                )
                                    .into_response()
                            },
                        ),
                    )
                    .route(
                        "/app.js",
                        get(|Query(query): Query<HashMap<String, String>>| async move {
                            let collector = query.get("collector").cloned().unwrap_or_default();
                            let app = format!(
                                "import * as nearmiss from '{collector}/nearmiss.mjs';\n\
                                 window.nm = nearmiss;"
                            );
                            ([(header::CONTENT_TYPE, "text/javascript")], app).into_response()
                        }),
                    )
                    .route(
                        "/spy.js",
                        get(|| async {
                            ([(header::CONTENT_TYPE, "text/javascript")], SPY).into_response()
                        }),
                    );
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        HostPage {
            origin,
            _thread: thread,
        }
    }
}
