/* docview.js — the in-kiosk document viewer (contract, acceptance record, receipt).
 *
 * DOM contract (templates/wizard/_macros.html doc_pages):
 *   <div data-doc-viewer data-doc-src="/r/…/document/contract.pdf" data-doc-title="Hợp đồng…"
 *        [data-doc-lazy] data-pdfjs="…/pdf.min.mjs" data-pdfjs-worker="…/pdf.worker.min.mjs">
 *     <button data-doc-zoom="out">A−</button> <span data-doc-zoom-level></span>
 *     <button data-doc-zoom="in">A+</button> <span data-doc-page-count></span>
 *     <div class="doc-pages zoom-1" data-doc-pages aria-busy="true">
 *       <canvas class="doc-page" data-doc-page="1"> <p data-doc-failed hidden>…</p>
 *     </div>
 *   </div>
 *
 * The kiosk's browser draws the PDF itself with the vendored PDF.js: the very bytes that are
 * signed and hashed, and no server CPU per page (the server used to rasterise every page of
 * every customer's documents). Each page is drawn at the width it is shown at × the screen's
 * pixel ratio, and drawn again after a zoom or a resize, so the text stays sharp at 250 %.
 * Zoom swaps a class (zoom-1 … zoom-4, widths in kiosk.css), so no inline style is ever set
 * (CSP: style-src 'self'); the reading position is kept in proportion when the zoom changes.
 * A viewer marked data-doc-lazy inside a closed <details> is drawn when the <details> opens.
 * The server sends one canvas; once the PDF is read, a canvas per further page is added and the
 * page count is said in the toolbar (so the server never has to open the PDF to count). When
 * every page is drawn the viewer gets data-doc-drawn="<pages>" and aria-busy="false"; if the
 * document cannot be fetched or read, the data-doc-failed notice is shown instead.
 */
(function () {
  'use strict';

  var LEVELS = [1, 1.5, 2, 2.5];
  var LABELS = ['100%', '150%', '200%', '250%'];
  var MIN_WIDTH = 600;    // device pixels: a page never drawn blurrier than this
  // device pixels: 250 % on a 1080-wide portrait screen is ~2400; the cap bounds a page's
  // bitmap at ~50 MB on a high-density screen (a 3-page contract stays well under the PC's memory)
  var MAX_WIDTH = 3072;
  var REDRAW_DELAY_MS = 180;

  var library = null;     // Promise of the PDF.js module, imported once per page load
  var worker = null;      // one PDF.js worker for every document of this page load
  var states = new WeakMap();  // viewer element -> its document and drawing state

  function pdfjs(viewer) {
    if (!library) {
      library = import(viewer.getAttribute('data-pdfjs')).then(function (lib) {
        lib.GlobalWorkerOptions.workerSrc = viewer.getAttribute('data-pdfjs-worker');
        return lib;
      }, function (err) {
        library = null;  // a later viewer may try again
        throw err;
      });
    }
    return library;
  }

  function failed(state, err) {
    if (state.destroyed) return;
    var pages = state.viewer.querySelector('[data-doc-pages]');
    state.viewer.querySelectorAll('[data-doc-page]').forEach(function (c) { c.hidden = true; });
    var notice = state.viewer.querySelector('[data-doc-failed]');
    if (notice) notice.hidden = false;
    var said = state.viewer.querySelector('[data-doc-page-count]');
    if (said) said.textContent = '';
    if (pages) pages.setAttribute('aria-busy', 'false');
    state.viewer.setAttribute('data-doc-drawn', 'failed');
    // a warning, not an error: the customer has the large-text reading and a clerk
    if (window.console) console.warn('docview: ' + (err && err.message ? err.message : err));
  }

  function deviceWidth(canvas) {
    var shown = canvas.clientWidth || 0;
    var width = Math.round(shown * (window.devicePixelRatio || 1));
    return Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, width || 1240));
  }

  function drawPage(state, canvas, number, generation) {
    return state.pdf.getPage(number).then(function (page) {
      if (generation !== state.generation) return null;
      var width = deviceWidth(canvas);
      var viewport = page.getViewport({ scale: width / page.getViewport({ scale: 1 }).width });
      // Drawn off screen, then copied: the page on screen stays readable while a zoom redraws.
      var fresh = document.createElement('canvas');
      fresh.width = Math.round(viewport.width);
      fresh.height = Math.round(viewport.height);
      state.task = page.render({ canvas: fresh, viewport: viewport });
      return state.task.promise.then(function () {
        state.task = null;
        if (generation !== state.generation) return;
        canvas.width = fresh.width;
        canvas.height = fresh.height;
        canvas.getContext('2d').drawImage(fresh, 0, 0);
        fresh.width = fresh.height = 0;  // release its pixels now, not at the next GC
      });
    });
  }

  function layOut(viewer, count) {
    // one canvas per page, each named for a screen reader; the count said in the toolbar
    var title = viewer.getAttribute('data-doc-title') || '';
    var first = viewer.querySelector('[data-doc-page]');
    var canvases = viewer.querySelectorAll('[data-doc-page]');
    for (var n = canvases.length + 1; n <= count; n++) {
      var canvas = first.cloneNode(false);
      canvas.setAttribute('data-doc-page', String(n));
      viewer.querySelector('[data-doc-pages]').insertBefore(canvas, viewer.querySelector('[data-doc-failed]'));
    }
    viewer.querySelectorAll('[data-doc-page]').forEach(function (c, i) {
      c.setAttribute('aria-label', title + ', trang ' + (i + 1) + '/' + count);
    });
    var said = viewer.querySelector('[data-doc-page-count]');
    if (said) said.textContent = count + ' trang — kéo lên xuống để đọc';
  }

  function draw(state) {
    var generation = ++state.generation;
    if (state.task) state.task.cancel();  // a zoom supersedes the drawing under way
    var canvases = state.viewer.querySelectorAll('[data-doc-page]');
    var chain = Promise.resolve();
    canvases.forEach(function (canvas, i) {
      chain = chain.then(function () {
        if (generation !== state.generation || state.destroyed) return null;
        return drawPage(state, canvas, i + 1, generation);  // layOut made one canvas a page
      });
    });
    return chain.then(function () {
      if (generation !== state.generation || state.destroyed) return;
      state.viewer.setAttribute('data-doc-drawn', String(canvases.length));
      var pages = state.viewer.querySelector('[data-doc-pages]');
      if (pages) pages.setAttribute('aria-busy', 'false');
    }, function (err) {
      if (generation !== state.generation || state.destroyed) return;  // cancelled by a newer draw
      failed(state, err);
    });
  }

  function redrawSoon(viewer) {
    var state = states.get(viewer);
    // a document that failed keeps its message: a zoom must not draw behind it
    if (!state || !state.pdf || viewer.getAttribute('data-doc-drawn') === 'failed') return;
    clearTimeout(state.timer);
    state.timer = setTimeout(function () { draw(state); }, REDRAW_DELAY_MS);
  }

  function open(viewer) {
    if (states.has(viewer)) return;
    var state = { viewer: viewer, generation: 0, pdf: null, task: null, loading: null,
                  timer: null, destroyed: false };
    states.set(viewer, state);
    var bytes = fetch(viewer.getAttribute('data-doc-src'), { credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.arrayBuffer();
      });
    Promise.all([pdfjs(viewer), bytes]).then(function (got) {
      if (state.destroyed) return null;
      var lib = got[0];
      if (!worker) worker = new lib.PDFWorker({ verbosity: lib.VerbosityLevel.ERRORS });
      state.loading = lib.getDocument({
        data: new Uint8Array(got[1]),
        worker: worker,
        verbosity: lib.VerbosityLevel.ERRORS,
        useWasm: false,         // our PDFs hold text, vector QR codes and Flate images only
        enableXfa: false,
      });
      return state.loading.promise.then(function (pdf) {
        if (state.destroyed) { pdf.destroy(); return null; }
        state.pdf = pdf;
        layOut(viewer, pdf.numPages);
        return draw(state);
      });
    }).catch(function (err) { failed(state, err); });
  }

  function close(viewer) {
    var state = states.get(viewer);
    if (!state) return;
    state.destroyed = true;
    clearTimeout(state.timer);
    if (state.task) state.task.cancel();
    if (state.loading) state.loading.destroy();  // the shared worker stays for the next document
    states.delete(viewer);
  }

  function level(pages) {
    for (var i = 0; i < LEVELS.length; i++) {
      if (pages.classList.contains('zoom-' + (i + 1))) return i;
    }
    return 0;
  }

  function setLevel(viewer, pages, next) {
    var now = level(pages);
    next = Math.max(0, Math.min(LEVELS.length - 1, next));
    if (next === now) return;
    var top = pages.scrollHeight ? pages.scrollTop / pages.scrollHeight : 0;
    var left = pages.scrollWidth ? pages.scrollLeft / pages.scrollWidth : 0;
    pages.classList.remove('zoom-' + (now + 1));
    pages.classList.add('zoom-' + (next + 1));
    pages.scrollTop = top * pages.scrollHeight;
    pages.scrollLeft = left * pages.scrollWidth;
    var label = viewer.querySelector('[data-doc-zoom-level]');
    if (label) label.textContent = LABELS[next];
    var out = viewer.querySelector('[data-doc-zoom="out"]');
    var inn = viewer.querySelector('[data-doc-zoom="in"]');
    if (out) out.disabled = next === 0;
    if (inn) inn.disabled = next === LEVELS.length - 1;
    redrawSoon(viewer);
  }

  document.addEventListener('click', function (e) {
    var btn = e.target.closest && e.target.closest('[data-doc-zoom]');
    if (!btn) return;
    var viewer = btn.closest('[data-doc-viewer]');
    var pages = viewer && viewer.querySelector('[data-doc-pages]');
    if (!pages) return;
    e.preventDefault();
    setLevel(viewer, pages, level(pages) + (btn.getAttribute('data-doc-zoom') === 'in' ? 1 : -1));
  });

  var started = new WeakSet();  // htmx:load and DOMContentLoaded both reach the first screen

  function start(viewer) {
    if (started.has(viewer)) return;
    started.add(viewer);
    var out = viewer.querySelector('[data-doc-zoom="out"]');
    if (out) out.disabled = true;  // starts at 100 %
    var details = viewer.hasAttribute('data-doc-lazy') && viewer.closest('details');
    if (details && !details.open) {
      details.addEventListener('toggle', function onToggle() {
        if (!details.open) return;
        details.removeEventListener('toggle', onToggle);
        open(viewer);
      });
      return;
    }
    open(viewer);
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches('[data-doc-viewer]')) start(scope);
    scope.querySelectorAll('[data-doc-viewer]').forEach(start);
  }

  document.addEventListener('htmx:beforeCleanupElement', function (e) {
    if (e.target.matches && e.target.matches('[data-doc-viewer]')) close(e.target);
  });
  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      document.querySelectorAll('[data-doc-viewer]').forEach(redrawSoon);
    }, REDRAW_DELAY_MS);
  });

  if (window.htmx && typeof window.htmx.onLoad === 'function') window.htmx.onLoad(init);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { init(document); });
  else init(document);
})();
