// nearmiss outbox: every rating and every details submission is stored in localStorage
// the moment it is made, before any network call, and removed only after the server's
// 2xx. What is left (offline, a closed tab) is sent on the next page load of any page
// of the site, when the page is hidden (with keepalive), and when the browser is back
// online. Where storage is unavailable (private modes) items live in memory.
//
// Each item has its own key, so two tabs never overwrite each other's items; each send
// holds a Web Lock named after the item and looks again inside it, so two tabs send an
// item once.
//
// It lives in the loader, not the wasm: it costs a few hundred bytes there, and what an
// earlier page left is sent even where the wasm cannot run. `cargo xtask build` inlines
// it into nearmiss.js; the widget's browser tests import it as a module.
export function outbox(w) {
  var PREFIX = 'nearmiss:o:', DROPPED = 'nearmiss:dropped', LIMIT = 50, memory = {}, store;
  try {
    store = w.localStorage;
    store.setItem(PREFIX, '');
    store.removeItem(PREFIX);
  } catch (e) {
    store = null;
  }
  function keys() {
    var found = [], i, key;
    if (store) for (i = 0; i < store.length; i++) {
      key = store.key(i);
      if (key.indexOf(PREFIX) === 0) found.push(key);
    }
    for (key in memory) if (found.indexOf(key) < 0) found.push(key);
    return found.sort();
  }
  // An item; one that cannot be read (written by hand, or cut short) is dropped, so it
  // never stops the items behind it.
  function get(key) {
    var text = memory[key];
    try { text = store ? store.getItem(key) || text : text; } catch (e) {}
    try {
      return text ? JSON.parse(text) : null;
    } catch (e) {
      drop(key);
      return null;
    }
  }
  function set(key, value) {
    var text = JSON.stringify(value);
    try { store.setItem(key, text); delete memory[key]; } catch (e) { memory[key] = text; }
  }
  function drop(key) {
    try { store.removeItem(key); } catch (e) {}
    delete memory[key];
  }
  function later(key, retryAfter) {
    var item = get(key);
    if (!item) return;
    item.a++;
    var wait = Math.min(2000 * Math.pow(2, item.a - 1), 300000) * (0.75 + Math.random() / 2);
    item.n = Date.now() + Math.max(wait, retryAfter * 1000 || 0);
    set(key, item);
  }
  // Sends one item; resolves with the server's JSON. Rejects with 0 (network), the
  // status (worth retrying: 408, 429, 5xx) or minus the status (refused: dropped).
  function send(key, url, body) {
    var run = function () {
      // Another tab may have sent it while this one waited for the lock.
      if (!get(key)) return Promise.resolve(null);
      return w.fetch(url, { method: 'POST', body: body, keepalive: true }).then(function (response) {
        var status = response.status;
        if (response.ok) {
          drop(key);
          return response.json().catch(function () { return null; });
        }
        if (status === 408 || status === 429 || status >= 500) {
          later(key, +response.headers.get('retry-after'));
          throw status;
        }
        drop(key);
        console.warn('nearmiss: dropped a refused submission', status);
        throw -status;
      }, function () {
        later(key, 0);
        throw 0;
      });
    };
    var locks = w.navigator.locks;
    return locks ? locks.request(key, run) : run();
  }
  // Stores an item (kind "r" for a rating, "d" for details); returns its key.
  function put(id, kind, url, body) {
    var waiting = keys();
    while (waiting.length >= LIMIT) {
      drop(waiting.shift());
      set(DROPPED, (get(DROPPED) || 0) + 1);
    }
    var key = PREFIX + (1e13 + Date.now()) + ':' + id + ':' + kind;
    set(key, { u: url, b: body, a: 0, n: 0 });
    return key;
  }
  function idOf(key) {
    return key.slice(PREFIX.length + 15, -2);
  }
  // Sends what is waiting (`all`, or only what its backoff allows now); details wait
  // for their rating; a network failure ends the round. While anything waits, it tries
  // again every 20 seconds.
  var timer;
  function flush(all) {
    var now = Date.now();
    clearTimeout(timer);
    return keys().reduce(function (previous, key) {
      return previous.then(function (offline) {
        var item = get(key);
        if (offline || !item || (!all && item.n > now)) return offline;
        var id = idOf(key);
        if (key.slice(-1) === 'd' && keys().some(function (k) { return k.slice(-1) === 'r' && idOf(k) === id; })) return offline;
        return send(key, item.u, item.b).then(function () { return false; }, function (code) { return code === 0; });
      });
    }, Promise.resolve(false)).then(function () {
      if (keys().length) timer = setTimeout(flush, 20000);
    });
  }
  // How long until the item may be tried again (its backoff, or the server's
  // Retry-After): the widget waits this, so retries have one schedule, this one.
  function wait(key) {
    var item = get(key);
    return item ? Math.max(item.n - Date.now(), 0) : 0;
  }
  return { put: put, send: send, flush: flush, wait: wait };
}
