/* signature.js — finger/pen/mouse signature pad (steps 7 and 9).
 *
 * DOM contract:
 *   <div class="signature-pad" data-signature-pad data-signature-empty-text="Ký tên vào khung này">
 *     <canvas></canvas>
 *     <button type="button" class="btn btn-secondary" data-signature-clear>Ký lại</button>
 *   </div>
 *   <input type="hidden" name="signature">      (inside the pad, or anywhere in the same form)
 * The hidden input always holds the current drawing: a PNG data URL with a transparent
 * background, or "" when nothing is drawn. It is refreshed after every stroke, on clear,
 * on the form's submit (capture phase) and on htmx:configRequest.
 * The pad gets class "has-ink" while something is drawn and fires a bubbling
 * "signature:change" event (detail: {empty: bool}).
 */
(function () {
  'use strict';

  var INK = '#0b1f5c';
  var LINE_WIDTH = 3;           // CSS pixels
  var PADS = new WeakMap();     // pad element -> controller
  var live = new Set();

  function Pad(root) {
    this.root = root;
    this.canvas = root.querySelector('canvas');
    var form = root.closest('form');
    this.form = form;
    this.input = root.querySelector('input[name="signature"]') ||
      (form ? form.querySelector('input[name="signature"]') : null);
    this.clearBtn = root.querySelector('[data-signature-clear]') ||
      (form ? form.querySelector('[data-signature-clear]') : null);
    this.emptyText = root.getAttribute('data-signature-empty-text') || '';
    this.strokes = [];          // each stroke: array of [x, y] normalised by canvas CSS width
    this.current = null;
    this.pointerId = null;
    this.cssW = 0;
    this.cssH = 0;
    this.dpr = 1;
    this.ctx = this.canvas.getContext('2d');
    this.bind();
    this.resize();
    this.sync();
  }

  Pad.prototype.bind = function () {
    var self = this;
    var c = this.canvas;
    c.style.touchAction = 'none';
    if (!c.hasAttribute('role')) c.setAttribute('role', 'img');
    if (!c.hasAttribute('aria-label')) c.setAttribute('aria-label', this.emptyText || 'Khung ký tên');

    this.onDown = function (e) {
      if (self.pointerId !== null) return;          // one finger at a time (ignores the palm)
      if (e.pointerType === 'mouse' && e.button !== 0) return;
      e.preventDefault();
      self.pointerId = e.pointerId;
      try { c.setPointerCapture(e.pointerId); } catch (err) { /* ignore */ }
      var first = self.strokes.length === 0;
      var p = self.point(e);
      self.current = [p];
      self.strokes.push(self.current);
      if (first) self.redraw();   // wipes the placeholder text, then draws this first dot
      else self.drawDot(p);
    };
    this.onMove = function (e) {
      if (e.pointerId !== self.pointerId || !self.current) return;
      e.preventDefault();
      var events = (typeof e.getCoalescedEvents === 'function' && e.getCoalescedEvents()) || [];
      if (!events.length) events = [e];
      for (var i = 0; i < events.length; i++) {
        var p = self.point(events[i]);
        var last = self.current[self.current.length - 1];
        if (Math.abs(p[0] - last[0]) + Math.abs(p[1] - last[1]) < 0.0008) continue;
        self.current.push(p);
        self.drawSegment(self.current);
      }
    };
    this.onUp = function (e) {
      if (e.pointerId !== self.pointerId) return;
      self.pointerId = null;
      self.current = null;
      try { c.releasePointerCapture(e.pointerId); } catch (err) { /* ignore */ }
      self.sync();
    };
    c.addEventListener('pointerdown', this.onDown);
    c.addEventListener('pointermove', this.onMove);
    c.addEventListener('pointerup', this.onUp);
    c.addEventListener('pointercancel', this.onUp);
    c.addEventListener('lostpointercapture', this.onUp);
    // Stop the page from scrolling / zooming under the pen on older touch stacks.
    c.addEventListener('touchstart', function (e) { e.preventDefault(); }, { passive: false });
    c.addEventListener('touchmove', function (e) { e.preventDefault(); }, { passive: false });
    c.addEventListener('contextmenu', function (e) { e.preventDefault(); });

    if (this.clearBtn) {
      this.onClear = function (e) {
        e.preventDefault();
        self.clear();
      };
      this.clearBtn.addEventListener('click', this.onClear);
    }
    if (this.form) {
      this.onSubmit = function () { self.sync(); };
      this.form.addEventListener('submit', this.onSubmit, true);
      this.onConfig = function (e) {
        self.sync();
        var params = e.detail && e.detail.parameters;
        if (!params || !self.input) return;
        var value = self.input.value;
        try {
          if (typeof params.set === 'function') params.set('signature', value);
          else params.signature = value;
        } catch (err) { /* ignore */ }
      };
      this.form.addEventListener('htmx:configRequest', this.onConfig);
    }
    if (typeof ResizeObserver === 'function') {
      this.ro = new ResizeObserver(function () { self.resize(); });
      this.ro.observe(c);
    } else {
      this.onWinResize = function () { self.resize(); };
      window.addEventListener('resize', this.onWinResize);
    }
  };

  Pad.prototype.point = function (e) {
    var r = this.canvas.getBoundingClientRect();
    var w = r.width || 1;
    return [(e.clientX - r.left) / w, (e.clientY - r.top) / w];
  };

  Pad.prototype.resize = function () {
    var r = this.canvas.getBoundingClientRect();
    var w = Math.round(r.width), h = Math.round(r.height);
    var dpr = window.devicePixelRatio || 1;
    if (!w || !h) return;  // hidden: try again on the next resize
    if (w === this.cssW && h === this.cssH && dpr === this.dpr) return;
    this.cssW = w;
    this.cssH = h;
    this.dpr = dpr;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.redraw();
  };

  Pad.prototype.style = function () {
    var ctx = this.ctx;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.lineWidth = LINE_WIDTH;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = INK;
    ctx.fillStyle = INK;
    return ctx;
  };

  Pad.prototype.redraw = function () {
    var ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.strokes.length) {
      this.drawPlaceholder();
      return;
    }
    this.style();
    for (var i = 0; i < this.strokes.length; i++) this.drawStroke(this.strokes[i]);
  };

  Pad.prototype.drawPlaceholder = function () {
    if (!this.emptyText || !this.cssW) return;
    var ctx = this.ctx;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    var size = Math.max(18, Math.min(34, this.cssH * 0.13));
    var family = window.getComputedStyle(this.root).fontFamily || 'sans-serif';
    ctx.font = '500 ' + size + 'px ' + family;
    ctx.fillStyle = 'rgba(22, 32, 44, 0.38)';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(this.emptyText, this.cssW / 2, this.cssH * 0.42);
  };

  Pad.prototype.drawDot = function (p) {
    var ctx = this.style();
    var s = this.cssW;
    ctx.beginPath();
    ctx.arc(p[0] * s, p[1] * s, LINE_WIDTH / 2, 0, Math.PI * 2);
    ctx.fill();
  };

  // Incremental drawing: smooth quadratic segment through the midpoints of the last points.
  Pad.prototype.drawSegment = function (pts) {
    var n = pts.length;
    if (n < 2) return;
    var ctx = this.style();
    var s = this.cssW;
    ctx.beginPath();
    if (n === 2) {
      ctx.moveTo(pts[0][0] * s, pts[0][1] * s);
      ctx.lineTo((pts[0][0] + pts[1][0]) / 2 * s, (pts[0][1] + pts[1][1]) / 2 * s);
    } else {
      var a = pts[n - 3], b = pts[n - 2], c = pts[n - 1];
      ctx.moveTo((a[0] + b[0]) / 2 * s, (a[1] + b[1]) / 2 * s);
      ctx.quadraticCurveTo(b[0] * s, b[1] * s, (b[0] + c[0]) / 2 * s, (b[1] + c[1]) / 2 * s);
    }
    ctx.stroke();
  };

  Pad.prototype.drawStroke = function (pts) {
    var ctx = this.ctx;
    var s = this.cssW;
    if (pts.length === 1) { this.drawDot(pts[0]); return; }
    ctx.beginPath();
    ctx.moveTo(pts[0][0] * s, pts[0][1] * s);
    for (var i = 1; i < pts.length - 1; i++) {
      var b = pts[i], c = pts[i + 1];
      ctx.quadraticCurveTo(b[0] * s, b[1] * s, (b[0] + c[0]) / 2 * s, (b[1] + c[1]) / 2 * s);
    }
    var last = pts[pts.length - 1];
    ctx.lineTo(last[0] * s, last[1] * s);
    ctx.stroke();
  };

  Pad.prototype.isEmpty = function () { return this.strokes.length === 0; };

  Pad.prototype.toDataURL = function () {
    if (this.isEmpty()) return '';
    // The canvas only holds ink when not empty (the placeholder is gone), background transparent.
    if (this.current) this.redraw();
    try { return this.canvas.toDataURL('image/png'); } catch (e) { return ''; }
  };

  Pad.prototype.sync = function () {
    var value = this.toDataURL();
    var empty = value === '';
    if (this.input && this.input.value !== value) {
      this.input.value = value;
      this.input.dispatchEvent(new Event('input', { bubbles: true }));
      this.input.dispatchEvent(new Event('change', { bubbles: true }));
    }
    this.root.classList.toggle('has-ink', !empty);
    this.root.dispatchEvent(new CustomEvent('signature:change', { bubbles: true, detail: { empty: empty } }));
  };

  Pad.prototype.clear = function () {
    this.strokes = [];
    this.current = null;
    this.pointerId = null;
    this.redraw();
    this.sync();
  };

  Pad.prototype.destroy = function () {
    if (this.ro) this.ro.disconnect();
    if (this.onWinResize) window.removeEventListener('resize', this.onWinResize);
    if (this.form) {
      this.form.removeEventListener('submit', this.onSubmit, true);
      this.form.removeEventListener('htmx:configRequest', this.onConfig);
    }
    if (this.clearBtn && this.onClear) this.clearBtn.removeEventListener('click', this.onClear);
  };

  function initPad(el) {
    if (PADS.has(el) || !el.querySelector('canvas')) return;
    var pad = new Pad(el);
    PADS.set(el, pad);
    live.add(el);
    el.setAttribute('data-signature-ready', '');
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches('[data-signature-pad]')) initPad(scope);
    scope.querySelectorAll('[data-signature-pad]').forEach(initPad);
  }

  function destroyPad(el) {
    var pad = PADS.get(el);
    if (!pad) return;
    pad.destroy();
    PADS.delete(el);
    live.delete(el);
  }

  document.addEventListener('htmx:beforeCleanupElement', function (evt) {
    var el = evt.target;
    if (el && el.matches && el.matches('[data-signature-pad]')) destroyPad(el);
  });
  document.addEventListener('htmx:afterSettle', function () {
    live.forEach(function (el) { if (!el.isConnected) destroyPad(el); });
  });

  // Public hook for other scripts/tests: KioskSignature.get(el).isEmpty() / .clear()
  window.KioskSignature = { get: function (el) { return PADS.get(el) || null; } };

  function boot() { init(document); }
  if (window.htmx && typeof window.htmx.onLoad === 'function') window.htmx.onLoad(init);
  else document.addEventListener('htmx:load', function (e) { init(e.target); });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
