// The desk's only script. Pages work without it; it adds live updates to the inbox
// (a new near miss appears without a reload, with an optional sound and notification)
// and copy buttons for a customer's contact.
"use strict";
(() => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    if (!navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", () =>
      navigator.clipboard.writeText(button.dataset.copy).then(() => { button.textContent = "Copied"; }));
  }

  if (!document.getElementById("inbox") || !window.EventSource) return;
  const refs = () => new Set([...document.querySelectorAll("#inbox [data-ref]")].map((e) => e.dataset.ref));
  let known = refs();
  const live = document.getElementById("live");
  const sound = document.getElementById("sound");
  const notify = document.getElementById("notify");
  live.hidden = false;
  sound.checked = localStorage.getItem("nearmiss-sound") === "on";
  sound.addEventListener("change", () => localStorage.setItem("nearmiss-sound", sound.checked ? "on" : "off"));
  notify.hidden = !window.Notification || Notification.permission !== "default";
  notify.addEventListener("click", () => Notification.requestPermission().then(() => { notify.hidden = true; }));

  function beep() {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.2);
  }

  function announce(added) {
    const first = document.querySelector(`#inbox [data-ref="${added[0]}"]`);
    document.getElementById("announce").textContent =
      `New near miss: ${added.join(", ")}`;
    if (sound.checked) beep();
    if (window.Notification && Notification.permission === "granted") {
      const words = first && first.querySelector(".words");
      new Notification(`New near miss ${added[0]}`, { body: words ? words.textContent : "" });
    }
  }

  let busy = false;
  let again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const answer = await fetch("/desk/inbox" + location.search, { credentials: "same-origin" });
      if (answer.redirected) { location.reload(); return; }
      if (!answer.ok) return;
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const fresh = page.getElementById("inbox");
      if (!fresh) return;
      document.getElementById("inbox").replaceWith(fresh);
      const now = refs();
      const added = [...now].filter((ref) => !known.has(ref));
      known = now;
      if (added.length) announce(added);
    } catch (_) {
      // Offline for a moment: the next change or the minute's refresh tries again.
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  new EventSource("/desk/events").addEventListener("changed", refresh);
  // Countdowns move on even when nothing changes.
  setInterval(refresh, 60000);
})();
