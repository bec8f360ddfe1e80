/* idle.js — send an abandoned kiosk back to the start screen.
 *
 * DOM contract:
 *   <body data-idle-timeout="120" data-idle-warning="20" data-idle-url="/idle" [data-idle-home="/"]>
 * No data-idle-timeout (or a value ≤ 0) = disabled. The attributes are re-read every tick, so a
 * swap that changes them takes effect at once. After (timeout − warning) s without activity
 * (pointerdown, keydown, touchstart, input, scroll, wheel) a .idle-dialog is shown with a countdown;
 * (an htmx swap made by an element inside [data-idle-passive], a poll, is not activity);
 * at timeout: POST data-idle-url (fetch, header X-CSRFToken, same-origin credentials), then
 * location.assign(data-idle-home || '/') whatever the answer. Any activity and every htmx swap
 * (htmx:afterSwap) restart the clock, and so does a 'kiosk:activity' event on document
 * (sent by guidance.js while a card is in view and by liveness.js while recording).
 *
 * From then on htmx sends no request and acts on no answer (htmx:beforeRequest and
 * htmx:beforeOnLoad are cancelled), so a poll cannot send the screen elsewhere first.
 *
 * While a clerk is called (an element [data-clerk-called] is in the page: the waiting panel of
 * templates/wizard/_waiting_for_clerk.html) the clock does not run: the customer was told to
 * wait, so waiting must not send them home. It starts afresh once the panel is gone.
 *
 * Optional data-idle-alive-url: while there is activity, POST it at most every ALIVE_EVERY s.
 * The server closes a registration to a screen that has sent nothing for the idle timeout
 * (wizard/state.py); someone reading the contract sends no request, so this says "still here".
 */
(function () {
  'use strict';

  var ACTIVITY = ['pointerdown', 'keydown', 'touchstart', 'input', 'scroll', 'wheel'];
  var ALIVE_EVERY = 30000;
  var last = Date.now();
  var lastAlive = Date.now();
  var fired = false;
  var dialog = null, countdownEl = null, button = null, textEl = null;
  var holding = false;   // a finger is down on the dialog: keep it until the click ends
  var timer = null;

  function csrfToken() { return window.kioskCsrfToken ? window.kioskCsrfToken() : ''; }

  function clerkCalled() {
    return !!document.querySelector('[data-clerk-called]');
  }

  function config() {
    var b = document.body;
    if (!b) return null;
    var timeout = parseFloat(b.getAttribute('data-idle-timeout'));
    if (!(timeout > 0)) return null;
    var warning = parseFloat(b.getAttribute('data-idle-warning'));
    if (!(warning >= 0)) warning = 20;
    warning = Math.min(warning, timeout);
    return {
      timeout: timeout,
      warning: warning,
      url: b.getAttribute('data-idle-url') || '',
      home: b.getAttribute('data-idle-home') || '/'
    };
  }

  function buildDialog() {
    if (dialog && dialog.isConnected) return dialog;
    dialog = document.createElement('div');
    dialog.className = 'idle-dialog';
    dialog.hidden = true;
    dialog.setAttribute('role', 'alertdialog');
    dialog.setAttribute('aria-modal', 'true');
    dialog.setAttribute('aria-labelledby', 'idle-dialog-title');
    dialog.setAttribute('aria-describedby', 'idle-dialog-text');
    dialog.innerHTML =
      '<div class="idle-box">' +
        '<h2 id="idle-dialog-title">Quý khách còn tiếp tục không?</h2>' +
        '<p id="idle-dialog-text">Màn hình sẽ quay về trang đầu sau ' +
          '<span class="idle-countdown" aria-live="off">20</span> giây. ' +
          'Thông tin đã nhập được giữ lại để nhân viên hỗ trợ.</p>' +
        '<button type="button" class="btn btn-primary btn-large" data-idle-continue>Tôi vẫn đang dùng</button>' +
      '</div>';
    countdownEl = dialog.querySelector('.idle-countdown');
    textEl = dialog.querySelector('#idle-dialog-text');
    button = dialog.querySelector('[data-idle-continue]');
    dialog.addEventListener('pointerdown', function () { holding = true; }, true);
    dialog.addEventListener('click', function (e) {
      e.preventDefault();
      e.stopPropagation();
      holding = false;
      reset();
    });
    document.body.appendChild(dialog);
    return dialog;
  }

  function show(secondsLeft) {
    buildDialog();
    countdownEl.textContent = String(secondsLeft);
    if (dialog.hidden) {
      dialog.hidden = false;
      try { button.focus({ preventScroll: true }); } catch (e) { button.focus(); }
    }
  }

  function hide() {
    if (dialog && !dialog.hidden) {
      dialog.hidden = true;
      if (document.activeElement === button) button.blur();
    }
  }

  function reset() {
    if (fired) return;
    last = Date.now();
    if (!holding) hide();
    alive();
  }

  function alive() {
    var url = document.body && document.body.getAttribute('data-idle-alive-url');
    if (!url || typeof fetch !== 'function' || Date.now() - lastAlive < ALIVE_EVERY) return;
    lastAlive = Date.now();
    fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRFToken': csrfToken(), 'X-Requested-With': 'fetch' }
    }).catch(function () { /* the next activity tries again */ });
  }

  function onActivity(e) {
    if (fired) return;
    // A touch on the dialog only restarts the clock; the click that follows closes it,
    // so the tap can never fall through to a button under the dialog.
    if (dialog && !dialog.hidden && e && e.target && dialog.contains(e.target) && e.type !== 'keydown') {
      last = Date.now();
      return;
    }
    reset();
  }

  function goHome(cfg) {
    fired = true;
    if (timer) { clearInterval(timer); timer = null; }
    if (dialog) {
      show(0);
      textEl.textContent = 'Đang quay về trang đầu…';
      button.disabled = true;
    }
    var leave = function () { window.location.assign(cfg.home || '/'); };
    if (!cfg.url || typeof fetch !== 'function') { leave(); return; }
    var ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    var abort = setTimeout(function () { if (ctrl) ctrl.abort(); }, 5000);
    var headers = { 'X-CSRFToken': csrfToken(), 'X-Requested-With': 'fetch' };
    fetch(cfg.url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: headers,
      keepalive: true,
      signal: ctrl ? ctrl.signal : undefined
    }).catch(function () { /* go home anyway */ }).then(function () {
      clearTimeout(abort);
      leave();
    });
  }

  function tick() {
    if (fired) return;
    var cfg = config();
    if (!cfg || clerkCalled()) { last = Date.now(); if (!holding) hide(); return; }
    var elapsed = (Date.now() - last) / 1000;
    if (elapsed >= cfg.timeout) { goHome(cfg); return; }
    if (elapsed >= cfg.timeout - cfg.warning) {
      show(Math.max(1, Math.ceil(cfg.timeout - elapsed)));
    } else if (!holding) {
      hide();
    }
  }

  function start() {
    ACTIVITY.forEach(function (type) {
      document.addEventListener(type, onActivity, { capture: true, passive: true });
    });
    document.addEventListener('pointerup', function () {
      if (holding) setTimeout(function () { holding = false; }, 400);
    }, true);
    // A swap made by a poll ([data-idle-passive]: the waiting panel, the registration status
    // poll) is the kiosk talking to itself, not a customer: it must not keep the screen alive.
    document.addEventListener('htmx:afterSwap', function (e) {
      var elt = e.detail && e.detail.elt;
      if (elt && elt.closest && elt.closest('[data-idle-passive]')) return;
      reset();
    });
    // Someone is in front of the camera (card guidance, liveness recording): not idle.
    document.addEventListener('kiosk:activity', reset);
    // Once the kiosk is going home, the page makes no more requests and acts on no answer: the
    // status poll would find the registration already let go and send the screen to the plain
    // welcome page first, racing the way home that says why.
    // (capture phase: before kiosk.js marks a form busy for a request that will not be sent)
    document.addEventListener('htmx:beforeRequest', function (e) { if (fired) e.preventDefault(); }, true);
    document.addEventListener('htmx:beforeOnLoad', function (e) { if (fired) e.preventDefault(); }, true);
    window.addEventListener('pageshow', function (e) {
      if (e.persisted) {
        // back from the browser's cache after going home: the dialog said «Đang quay về…»
        // with its button off; the next warning gets a new one
        if (dialog) { dialog.remove(); dialog = null; }
        fired = false; last = Date.now(); hide(); if (!timer) timer = setInterval(tick, 500);
      }
    });
    last = Date.now();
    timer = setInterval(tick, 500);
  }

  window.KioskIdle = { reset: reset };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
