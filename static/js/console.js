/* Clerks' console glue. Plain ES2017, no build step, loaded with defer (CSP: self only).
   - htmx sends the CSRF token from <body hx-headers> by itself.
   - The queue cue: the nav badge is polled every 5 s; when the number of registrations waiting
     for a clerk grows, the title blinks and (once the clerk pressed «Bật âm báo», since browsers
     refuse sound before a user gesture) a chime plays. */
(function () {
  "use strict";
  var body = document.body;
  var chimeUrl = body.getAttribute("data-chime");
  var audio = null;
  var soundOn = false;
  var lastCount = null;
  var baseTitle = document.title;
  var blinkTimer = null;

  try { soundOn = window.localStorage.getItem("console-sound") === "on"; } catch (e) { /* private mode */ }

  function updateToggle() {
    var btn = document.querySelector("[data-sound-toggle]");
    if (!btn) return;
    btn.setAttribute("aria-pressed", soundOn ? "true" : "false");
    btn.textContent = soundOn ? "Tắt âm báo" : "Bật âm báo";
  }

  function chime() {
    if (!soundOn || !chimeUrl) return;
    if (!audio) audio = new Audio(chimeUrl);
    audio.currentTime = 0;
    var p = audio.play();
    if (p && p.catch) p.catch(function () { /* no gesture yet: the visual cue still shows */ });
  }

  function blink(count) {
    if (blinkTimer) window.clearInterval(blinkTimer);
    var on = false, ticks = 0;
    body.classList.add("queue-alert");
    blinkTimer = window.setInterval(function () {
      on = !on; ticks += 1;
      document.title = on ? "(" + count + ") Khách đang chờ — " + baseTitle : baseTitle;
      if (ticks > 20 || document.hasFocus()) {
        window.clearInterval(blinkTimer); blinkTimer = null;
        document.title = baseTitle;
        window.setTimeout(function () { body.classList.remove("queue-alert"); }, 4000);
      }
    }, 700);
  }

  function checkQueue() {
    var badge = document.querySelector("#queue-badge [data-queue-count]");
    if (!badge) return;
    var count = parseInt(badge.getAttribute("data-queue-count"), 10) || 0;
    if (lastCount !== null && count > lastCount) {
      chime();
      blink(count);
    }
    lastCount = count;
    body.setAttribute("data-queue-count", String(count));
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-sound-toggle]");
    if (!btn) return;
    soundOn = !soundOn;
    try { window.localStorage.setItem("console-sound", soundOn ? "on" : "off"); } catch (e) { /* ignore */ }
    updateToggle();
    if (soundOn) chime();  // the click is the gesture that lets later chimes play
  });

  document.addEventListener("htmx:afterSettle", checkQueue);
  updateToggle();
  checkQueue();
})();
