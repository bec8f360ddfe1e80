/* kiosk.js — small glue between htmx and the kiosk screens.
 *
 *  - CSRF: the token has one home, <body hx-headers='{"X-CSRFToken": …}'>: htmx sends it on
 *    every request by itself; window.kioskCsrfToken() hands it to the few fetch() calls
 *    (idle, guidance, liveness). Plain no-JS forms carry the hidden csrf_token input.
 *  - No double submits: the requesting form (or element) gets aria-busy="true" while its htmx
 *    request runs; a second submit of a busy form is swallowed.
 *  - After a swap: the swapped content is scrolled to the top of the screen, and the input of
 *    the first .field-error (or .field.has-error) is focused so the customer sees what to fix;
 *    without errors, h1.step-title receives focus (tabindex=-1) for screen readers.
 *  - label.choice gets/loses class "selected" with its radio/checkbox (for :has-less browsers).
 *  - input[data-keep-typed] (the password fields): the server never echoes a password, so
 *    after a refused submit kiosk.js puts back what was typed into each such field that the
 *    server did not mark aria-invalid (a confirmation that differed is emptied, the password
 *    that met the rules is kept). In the browser only; nothing is stored.
 *  - Network failure / server error that swapped nothing: a Vietnamese .notice.error
 *    [data-request-error] is shown at the top of the requesting form.
 *  - «Máy đang bận» (503 with Retry-After: the photo analysis could not start now): the
 *    server's words are shown at the top of the form, and after Retry-After seconds the SAME
 *    form is submitted again (the same photo in image_data, the same file): the customer only
 *    waits. After BUSY_MAX_TRIES the usual server error is shown instead.
 *  - A picture kept across swaps (img[hx-preserve], step 6's photos) that failed to load loses
 *    its id: the next swap then brings a fresh copy, fetched again, instead of keeping the
 *    broken one.
 */
(function () {
  'use strict';

  var MSG_NETWORK = 'Không kết nối được với máy chủ. Quý khách vui lòng thử lại hoặc nhờ nhân viên hỗ trợ.';
  var MSG_CLIENT = 'Không thực hiện được yêu cầu. Quý khách vui lòng tải lại trang hoặc nhờ nhân viên hỗ trợ.';
  var MSG_SERVER = 'Hệ thống đang gặp sự cố. Quý khách vui lòng thử lại sau giây lát hoặc nhờ nhân viên hỗ trợ.';
  var MSG_BUSY = 'Máy đang bận, xin chờ trong giây lát.';
  var BUSY_MAX_TRIES = 30;  // ~1 minute of 2-second waits

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute('hx-headers') || '{}')['X-CSRFToken'] || '';
    } catch (err) {
      return '';
    }
  }
  window.kioskCsrfToken = csrfToken;

  function busyHost(elt) {
    if (!elt || !elt.closest) return null;
    return elt.tagName === 'FORM' ? elt : (elt.closest('form') || elt);
  }

  // --- double-submit guard
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (form && form.getAttribute && form.getAttribute('aria-busy') === 'true') {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener('htmx:beforeRequest', function (e) {
    if (e.defaultPrevented) return;  // not sent (idle.js: the kiosk is going home)
    var host = busyHost(e.detail && e.detail.elt);
    if (!host) return;
    // Polling or background requests (hx-trigger="every …", load) must not lock the form.
    if (e.detail.elt && e.detail.elt.hasAttribute && e.detail.elt.hasAttribute('data-no-busy')) return;
    host.setAttribute('aria-busy', 'true');
    var old = host.querySelector && host.querySelector('[data-request-error]');
    if (old) old.remove();
  });

  document.addEventListener('htmx:afterRequest', function (e) {
    var host = busyHost(e.detail && e.detail.elt);
    if (host) host.removeAttribute('aria-busy');
  });

  function showRequestError(e, text) {
    var elt = e.detail && e.detail.elt;
    var host = busyHost(elt);
    if (!host || !host.isConnected) return;  // the server's answer replaced it: nothing to say
    if (host.getAttribute('aria-busy') === 'true') host.removeAttribute('aria-busy');
    var box = host.querySelector('[data-request-error]');
    if (!box) {
      box = document.createElement('div');
      box.className = 'notice error';
      box.setAttribute('role', 'alert');
      box.setAttribute('data-request-error', '');
      host.insertBefore(box, host.firstChild);
    }
    box.textContent = text;
    box.scrollIntoView({ block: 'center' });
  }
  document.addEventListener('htmx:sendError', function (e) { showRequestError(e, MSG_NETWORK); });
  document.addEventListener('htmx:timeout', function (e) { showRequestError(e, MSG_NETWORK); });
  var swapped = new WeakSet();   // xhr objects whose response htmx swapped into the page
  document.addEventListener('htmx:beforeSwap', function (e) {
    var d = e.detail || {};
    if (d.xhr && d.shouldSwap) swapped.add(d.xhr);
  });
  document.addEventListener('htmx:afterSwap', function (e) {
    var d = e.detail || {};
    if (d.xhr) swapped.add(d.xhr);
  });
  function busyAnswer(xhr) {
    return !!xhr && xhr.status === 503 && !!xhr.getResponseHeader('Retry-After');
  }
  var busyTries = new WeakMap();  // form -> busy answers in a row
  function retryWhenFree(e, xhr) {
    var host = busyHost(e.detail && e.detail.elt);
    if (!host || !host.isConnected) return false;
    var tries = (busyTries.get(host) || 0) + 1;
    if (host.tagName !== 'FORM' || tries > BUSY_MAX_TRIES) {
      busyTries.delete(host);
      host.removeAttribute('data-busy-retry');
      return false;
    }
    busyTries.set(host, tries);
    host.setAttribute('data-busy-retry', 'true');  // camera.js keeps its shutter closed
    var holder = document.createElement('div');
    holder.innerHTML = xhr.responseText || '';
    var said = holder.querySelector('[data-vision-busy]');
    showRequestError(e, (said && said.textContent.trim()) || MSG_BUSY);
    var box = host.querySelector('[data-request-error]');
    if (box) { box.className = 'notice warn'; box.setAttribute('role', 'status'); }
    var seconds = parseInt(xhr.getResponseHeader('Retry-After'), 10) || 2;
    window.setTimeout(function () {
      if (!host.isConnected) return;
      host.removeAttribute('data-busy-retry');
      if (typeof host.requestSubmit === 'function') host.requestSubmit();
      else host.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    }, seconds * 1000);
    return true;
  }
  document.addEventListener('htmx:afterSwap', function (e) {
    var host = busyHost(e.detail && e.detail.elt);
    if (host) busyTries.delete(host);  // an answer came: the next busy spell counts anew
  });
  document.addEventListener('htmx:responseError', function (e) {
    var xhr = e.detail && e.detail.xhr;
    if (busyAnswer(xhr) && !swapped.has(xhr) && retryWhenFree(e, xhr)) return;
    // An error answer that htmx swapped in (e.g. a 422 re-rendered form, if responseHandling is
    // configured so) speaks for itself.
    if (xhr && swapped.has(xhr)) return;
    showRequestError(e, xhr && xhr.status >= 500 ? MSG_SERVER : MSG_CLIENT);
  });

  // --- keep what was typed into password fields the server did not refuse
  var typed = null;
  document.addEventListener('htmx:beforeSwap', function (e) {
    typed = {};
    document.querySelectorAll('input[data-keep-typed]').forEach(function (input) {
      if (input.name && input.value) typed[input.name] = input.value;
    });
  });
  document.addEventListener('htmx:afterSwap', function () {
    var kept = typed;
    typed = null;
    if (!kept) return;
    document.querySelectorAll('input[data-keep-typed]').forEach(function (input) {
      if (!input.value && kept[input.name] && input.getAttribute('aria-invalid') !== 'true') {
        input.value = kept[input.name];
      }
    });
  });

  // --- after each swap: scroll to the new step, focus the first error
  function focusable(field) {
    return field.querySelector(
      'input:not([type="hidden"]):not([disabled]), select:not([disabled]), textarea:not([disabled]), ' +
      '[data-signature-pad] canvas, [data-keypad] button.key, button:not([disabled])'
    );
  }

  function isNavigation(d) {
    // Only swaps caused by the customer moving on (submit, click, programmatic htmx.ajax) may
    // scroll or move focus; live updates while typing (hx-trigger="input", polling) must not.
    var elt = d.elt;
    if (elt && elt.closest && elt.closest('[data-no-focus]')) return false;
    var cfg = d.requestConfig;
    var trig = cfg && cfg.triggeringEvent;
    var type = trig && trig.type;
    return !type || type === 'submit' || type === 'click';
  }

  function afterSettle(e) {
    var d = e.detail || {};
    if (!isNavigation(d)) return;
    var target = d.target || document.body;
    if (!target.isConnected) target = document.querySelector('main.kiosk-main') || document.body;
    var isBoosted = d.boosted;
    var err = target.querySelector('.field-error, .field.has-error') ||
      document.querySelector('.field-error, .field.has-error');
    if (err) {
      var field = err.closest('.field') || err.parentElement;
      var control = field && focusable(field);
      if (control) {
        try { control.focus({ preventScroll: true }); } catch (x) { control.focus(); }
      }
      (field || err).scrollIntoView({ block: 'center' });
      return;
    }
    var alert = target.querySelector('.notice.error[role="alert"]');
    if (target === document.body || isBoosted || target.contains(document.querySelector('h1.step-title'))) {
      window.scrollTo(0, 0);
    } else {
      var r = target.getBoundingClientRect();
      if (r.top < 0 || r.top > window.innerHeight * 0.5) target.scrollIntoView({ block: 'start' });
    }
    if (alert) { alert.scrollIntoView({ block: 'center' }); return; }
    var title = document.querySelector('h1.step-title');
    if (title && target.contains(title)) {
      if (!title.hasAttribute('tabindex')) title.setAttribute('tabindex', '-1');
      try { title.focus({ preventScroll: true }); } catch (x) { title.focus(); }
    }
  }
  // htmx applies hx-swap's "show:window:top" right after htmx:afterSettle: scrolling to an
  // error in the handler itself would be undone at once (the error ended up off screen).
  document.addEventListener('htmx:afterSettle', function (e) {
    setTimeout(function () { afterSettle(e); }, 0);
  });

  // --- the live password checklist turned all green: the error from the last submit is stale
  // (the checklist and the password rule are the same server function, so green means met)
  document.addEventListener('htmx:afterSettle', function () {
    var list = document.getElementById('password-checklist');
    if (!list || list.querySelector('li.bad')) return;
    var field = list.closest('form') && list.closest('form').querySelector('.field:has(#password)');
    if (!field || !field.classList.contains('has-error')) return;
    field.classList.remove('has-error');
    field.querySelectorAll('.field-error').forEach(function (p) { p.remove(); });
    var input = field.querySelector('#password');
    if (input) input.removeAttribute('aria-invalid');
  });

  // --- choice cards: mirror :checked as .selected
  function syncChoices(scope) {
    (scope || document).querySelectorAll('label.choice, .package-card').forEach(function (label) {
      var input = label.querySelector('input[type="radio"], input[type="checkbox"]');
      if (input) label.classList.toggle('selected', input.checked);
    });
  }
  document.addEventListener('change', function (e) {
    var t = e.target;
    if (!t || (t.type !== 'radio' && t.type !== 'checkbox')) return;
    var scope = (t.form) || document;
    syncChoices(scope);
  });

  // error events do not bubble: listened for while they go down to the image
  document.addEventListener('error', function (e) {
    var t = e.target;
    if (t && t.tagName === 'IMG' && t.hasAttribute('hx-preserve')) t.removeAttribute('id');
  }, true);

  function init(root) {
    syncChoices(root && root.querySelectorAll ? root : document);
  }
  function boot() { init(document); }
  if (window.htmx && typeof window.htmx.onLoad === 'function') window.htmx.onLoad(init);
  else document.addEventListener('htmx:load', function (e) { init(e.target); });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
