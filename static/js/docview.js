/* docview.js — the in-kiosk document viewer (contract, acceptance record, receipt).
 *
 * DOM contract (templates/wizard/_macros.html doc_pages):
 *   <div data-doc-viewer>
 *     <button data-doc-zoom="out">A−</button> <span data-doc-zoom-level></span>
 *     <button data-doc-zoom="in">A+</button>
 *     <div class="doc-pages zoom-1" data-doc-pages> <img class="doc-page"> … </div>
 *   </div>
 * The pages are server-rendered images; zoom swaps a class (zoom-1 … zoom-4, widths in
 * kiosk.css), so no inline style is ever set (CSP: style-src 'self'). The reading position is
 * kept in proportion when the zoom changes.
 */
(function () {
  'use strict';

  var LEVELS = [1, 1.5, 2, 2.5];
  var LABELS = ['100%', '150%', '200%', '250%'];

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

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll('[data-doc-viewer]').forEach(function (viewer) {
      var out = viewer.querySelector('[data-doc-zoom="out"]');
      if (out) out.disabled = true;  // starts at 100 %
    });
  }
  if (window.htmx && typeof window.htmx.onLoad === 'function') window.htmx.onLoad(init);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { init(document); });
  else init(document);
})();
