/* print.js — receipt printing and the automatic return to the start screen.
 *
 * DOM contract:
 *   <iframe data-autoprint src="/r/…/receipt/print" [data-print-failed-url="/r/…/print-failed"]></iframe>
 *       printed once its receipt is drawn (the frame's [data-doc-viewer] gets data-doc-drawn from
 *       docview.js; a frame without a viewer is printed when loaded): contentWindow.print().
 *       The outcome is told, never guessed: the frame gets data-print-state="printed" | "failed"
 *       and the [data-print-status] element beside it says it in words. A failure (nothing
 *       drawn within DRAW_LIMIT, a drawing that failed, print() throwing) is POSTed (htmx) to
 *       data-print-failed-url, whose answer (the clerk's waiting panel) goes into #help-area.
 *       The page never navigates to the PDF (a PDF opened in the kiosk tab left it stranded).
 *   <button type="button" data-print-again ["=iframe-id"]>In lại</button>
 *       re-prints the iframe named by the attribute value, else the first iframe[data-autoprint].
 *   <div data-return-after="90" [data-return-url="/"]> … <span data-return-countdown></span> … </div>
 *       after N seconds: location.assign(data-return-url || '/'); the countdown element(s) inside
 *       (or anywhere in the page if none inside) show the seconds left. While a clerk is awaited
 *       (#waiting-for-clerk in the page) the countdown starts over instead of leaving.
 */
(function () {
  'use strict';

  var PRINTED = new WeakSet();
  var FRAMES = new WeakSet();
  var RETURNS = new WeakMap();   // element -> interval id

  function iframeUrl(frame) {
    return frame.getAttribute('src') || frame.getAttribute('data-src') || '';
  }

  var DRAW_LIMIT = 30000;
  var MSG_PRINTED = 'Phiếu đã được gửi tới máy in. Vui lòng lấy phiếu ở khe máy in.';
  var MSG_FAILED = 'Chưa in được phiếu. Nhân viên tại quầy đã được gọi để in giúp; đăng ký của quý khách đã hoàn tất, không bị mất.';

  function say(frame, state, text) {
    frame.setAttribute('data-print-state', state);
    var host = frame.parentNode;
    var status = host && host.querySelector('[data-print-status]');
    if (status) {
      status.textContent = text;
      status.className = state === 'failed' ? 'notice error' : 'notice success';
    }
  }

  function reportFailure(frame) {
    say(frame, 'failed', MSG_FAILED);
    var url = frame.getAttribute('data-print-failed-url');
    if (url && window.htmx && document.getElementById('help-area')) {
      window.htmx.ajax('POST', url, { target: '#help-area', swap: 'innerHTML' });
    }
  }

  function printFrame(frame) {
    try {
      var w = frame.contentWindow;
      if (!w) throw new Error('no window');
      w.focus();
      w.print();
      say(frame, 'printed', MSG_PRINTED);
      return true;
    } catch (e) {
      reportFailure(frame);
      return false;
    }
  }

  function drawnState(frame) {
    // 'none' (no viewer: print as it is), 'waiting', 'drawn' or 'failed'
    try {
      var viewer = frame.contentDocument && frame.contentDocument.querySelector('[data-doc-viewer]');
      if (!viewer) return 'none';
      var drawn = viewer.getAttribute('data-doc-drawn');
      if (drawn === 'failed') return 'failed';
      return drawn ? 'drawn' : 'waiting';
    } catch (e) {
      return 'none';
    }
  }

  function loadedDocument(frame) {
    // True when the iframe already shows its real document (not the initial about:blank).
    try {
      var w = frame.contentWindow;
      var d = frame.contentDocument;
      if (!w || !d) return false;
      return d.readyState === 'complete' && w.location.href !== 'about:blank';
    } catch (e) {
      return false;  // cross-origin: wait for the load event
    }
  }

  function autoprint(frame) {
    if (PRINTED.has(frame)) return;
    PRINTED.add(frame);
    var delay = parseInt(frame.getAttribute('data-autoprint-delay'), 10);
    if (!(delay >= 0)) delay = 100;   // the drawn canvases laid out before printing
    var started = Date.now();
    var check = function () {
      if (!frame.isConnected) return;
      var state = drawnState(frame);
      if (state === 'failed' || (state === 'waiting' && Date.now() - started > DRAW_LIMIT)) {
        reportFailure(frame);
      } else if (state === 'waiting') {
        setTimeout(check, 200);
      } else {
        setTimeout(function () { if (frame.isConnected) printFrame(frame); }, delay);
      }
    };
    check();
  }

  function initFrame(frame) {
    if (FRAMES.has(frame)) return;
    FRAMES.add(frame);
    if (!iframeUrl(frame)) return;
    frame.addEventListener('load', function () { autoprint(frame); });
    if (loadedDocument(frame)) autoprint(frame);
  }

  function startReturn(el) {
    if (RETURNS.has(el)) return;
    var secs = parseInt(el.getAttribute('data-return-after'), 10);
    if (!(secs > 0)) return;
    var url = el.getAttribute('data-return-url') || '/';
    var deadline = Date.now() + secs * 1000;
    var targets = el.querySelectorAll('[data-return-countdown]');
    if (!targets.length) targets = document.querySelectorAll('[data-return-countdown]');
    var update = function () {
      if (!el.isConnected) { stopReturn(el); return; }
      // A clerk was called (printer trouble): the customer waits for them, the screen stays.
      if (document.getElementById('waiting-for-clerk')) deadline = Date.now() + secs * 1000;
      var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      for (var i = 0; i < targets.length; i++) targets[i].textContent = String(left);
      if (left <= 0) {
        stopReturn(el);
        window.location.assign(url);
      }
    };
    update();
    RETURNS.set(el, setInterval(update, 250));
  }

  function stopReturn(el) {
    var id = RETURNS.get(el);
    if (id) clearInterval(id);
    RETURNS.delete(el);
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var match = function (sel, fn) {
      if (scope.matches && scope.matches(sel)) fn(scope);
      scope.querySelectorAll(sel).forEach(fn);
    };
    match('iframe[data-autoprint]', initFrame);
    match('[data-return-after]', startReturn);
  }

  document.addEventListener('click', function (e) {
    var btn = e.target.closest && e.target.closest('[data-print-again]');
    if (!btn) return;
    e.preventDefault();
    var id = btn.getAttribute('data-print-again');
    var frame = (id && document.getElementById(id)) || document.querySelector('iframe[data-autoprint]');
    if (frame && frame.tagName === 'IFRAME') printFrame(frame);
    else window.print();
  });

  document.addEventListener('htmx:beforeCleanupElement', function (evt) {
    var el = evt.target;
    if (el && el.hasAttribute && el.hasAttribute('data-return-after')) stopReturn(el);
  });

  function boot() { init(document); }
  if (window.htmx && typeof window.htmx.onLoad === 'function') window.htmx.onLoad(init);
  else document.addEventListener('htmx:load', function (e) { init(e.target); });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
