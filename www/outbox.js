// nearmiss outbox: every rating and every details submission is stored in localStorage
// the moment it is made, before any network call, and removed only after the server's
// 2xx. What is left (offline, a closed tab) is sent on the next page load of any page
// of the site, when the page is hidden (with keepalive), and when the browser is back
// online. Where storage is unavailable (private modes) items live in memory.
//
// Each item has its own key, so two tabs never overwrite each other's items; each send
// holds a Web Lock named after the item and looks again inside it, so two tabs send an
// item once. It owns the retry schedule: a backoff, or the server's Retry-After.
//
// It travels in the wasm's glue (`cargo xtask build` appends it), which the loader
// downloads on intent, or when a page finds something from an earlier page waiting: a
// page view where nothing waits pays nothing for it. The widget's browser tests import
// it as it is.
// One a window: a page that starts the widget again (a single-page app) gets the same
// one, and its listeners are added once.
var made = new WeakMap();

export function outbox(w) {
  if (made.has(w)) return made.get(w);
  var PREFIX = 'nearmiss:o:', DROPPED = 'nearmiss:dropped', memory = {}, store, timer;
  try {
    store = w.localStorage;
    store.setItem(PREFIX, '');
    store.removeItem(PREFIX);
  } catch (e) {
    store = 0;
  }
  function keys() {
    var found = Object.keys(memory), i = store ? store.length : 0, key;
    while (i--) {
      key = store.key(i);
      if (!key.indexOf(PREFIX) && found.indexOf(key) < 0) found.push(key);
    }
    return found.sort();
  }
  // An item; one that cannot be read (written by hand, or cut short) is dropped, so it
  // never stops the items behind it.
  function get(key) {
    try {
      return JSON.parse(store && store.getItem(key) || memory[key] || null);
    } catch (e) {
      drop(key);
    }
  }
  function set(key, value) {
    value = JSON.stringify(value);
    try { store.setItem(key, value); delete memory[key]; } catch (e) { memory[key] = value; }
  }
  function drop(key) {
    try { store.removeItem(key); } catch (e) {}
    delete memory[key];
  }
  // The next try: 2 s doubling to 5 minutes, jittered, or the server's Retry-After.
  function later(key, retryAfter) {
    var item = get(key);
    if (item) {
      item.n = Date.now() + Math.max(Math.min(2e3 << Math.min(item.a++, 8), 3e5) * (.75 + Math.random() / 2), retryAfter * 1e3 || 0);
      set(key, item);
    }
  }
  // Sends one item; resolves with the server's JSON. Rejects with 0 (network), the
  // status (worth retrying: 408, 429, 5xx) or minus the status (refused: dropped).
  function send(key, url, body) {
    var run = function () {
      // Another tab may have sent it while this one waited for the lock.
      return get(key) ? w.fetch(url, { method: 'POST', body: body, keepalive: true }).then(function (response) {
        var status = response.status;
        if (response.ok) {
          drop(key);
          return response.json().catch(function () { return null; }).then(function (answer) {
            if (answer && answer.edit) give(idOf(key), answer.edit);
            return answer;
          });
        }
        if (status == 408 || status == 429 || status > 499) {
          later(key, +response.headers.get('retry-after'));
          throw status;
        }
        drop(key);
        console.warn('nearmiss: dropped a refused submission', status);
        throw -status;
      }, function () {
        later(key, 0);
        throw 0;
      }) : Promise.resolve(null);
    }, locks = w.navigator.locks;
    return locks ? locks.request(key, run) : run();
  }
  function idOf(key) {
    return key.slice(26, -2);
  }
  // A rating's answer carries its edit secret: details and score changes stored by an
  // older widget, which did not make one, get it before they are sent.
  function give(id, edit) {
    keys().forEach(function (k) {
      var item = get(k), body;
      if (item && k.slice(-1) != 'r' && idOf(k) == id) {
        body = JSON.parse(item.b);
        if (!body.edit) {
          body.edit = edit;
          item.b = JSON.stringify(body);
          set(k, item);
        }
      }
    });
  }
  // Sends what is waiting (`all`, or only what its backoff allows now); details and a
  // changed score wait for their rating; a network failure ends the round. While anything waits, it tries
  // again every 20 seconds.
  function flush(all) {
    var now = Date.now();
    clearTimeout(timer);
    return keys().reduce(function (previous, key) {
      return previous.then(function (offline) {
        var item = get(key), id = idOf(key);
        return offline || !item || !all && item.n > now ||
          key.slice(-1) != 'r' && keys().some(function (k) { return k.slice(-1) == 'r' && idOf(k) == id; })
          ? offline
          : send(key, item.u, item.b).then(function () {}, function (code) { return code === 0; });
      });
    }, Promise.resolve()).then(function () {
      if (keys().length) timer = setTimeout(flush, 2e4);
    });
  }
  // Sent when the page is hidden (with keepalive) and when the browser is back online.
  w.document.addEventListener('visibilitychange', function () {
    if (w.document.visibilityState == 'hidden') flush(1);
  });
  w.addEventListener('online', function () { flush(1); });
  var box = {
    // Stores an item (kind "r" for a rating, "d" for details, "s" for a changed score);
    // returns its key. At most
    // 50 wait: the oldest go first, counted.
    put: function (id, kind, url, body) {
      for (var key = keys(); key.length > 49;) {
        drop(key.shift());
        set(DROPPED, (get(DROPPED) || 0) + 1);
      }
      key = PREFIX + (1e13 + Date.now()) + ':' + id + ':' + kind;
      set(key, { u: url, b: body, a: 0, n: 0 });
      return key;
    },
    send: send,
    flush: flush,
    // How long until the item may be tried again: the widget waits this, so retries
    // have one schedule, this one.
    wait: function (key) {
      var item = get(key);
      return item ? Math.max(item.n - Date.now(), 0) : 0;
    }
  };
  made.set(w, box);
  return box;
}
