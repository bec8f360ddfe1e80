/* keypad.js — on-screen PIN keypad (step 8): digits are never shown, only dots.
 *
 * DOM contract:
 *   <input type="hidden" id="pin" name="pin" maxlength="6">        (or type=password readonly)
 *   <div class="pin-dots" data-pin-dots-for="pin"></div>            (6 span.dot; created if missing)
 *   <div class="keypad" data-keypad data-target="pin" data-next="pin2">
 *     <button type="button" class="key" data-key="1">1</button> … data-key="0"…"9"
 *     <button type="button" class="key" data-key="clear">Xóa hết</button>
 *     <button type="button" class="key" data-key="back">Xóa</button>
 *   </div>
 * data-next may name the next keypad's id or the next keypad's target input id.
 * When a keypad's input reaches maxlength (default 6) the next keypad becomes active
 * (class "active" on it and on its dots, focus on its first key). The input fires bubbling
 * "input"/"change" events on every change, and the keypad fires "keypad:complete" when full.
 * A hardware keyboard (digits, Backspace, Delete/Escape) types into the active keypad.
 */
(function () {
  'use strict';

  var BOUND = new WeakSet();

  function targetOf(keypad) {
    var id = keypad.getAttribute('data-target');
    return id ? document.getElementById(id) : null;
  }
  function maxLen(input) {
    var n = parseInt(input.getAttribute('maxlength'), 10);
    return n > 0 ? n : 6;
  }
  function dotsFor(input) {
    if (!input.id) return [];
    var sel = '[data-pin-dots-for="' + (window.CSS && CSS.escape ? CSS.escape(input.id) : input.id) + '"]';
    return Array.prototype.slice.call(document.querySelectorAll(sel));
  }

  function render(keypad) {
    var input = targetOf(keypad);
    if (!input) return;
    var max = maxLen(input);
    var len = Math.min((input.value || '').length, max);
    dotsFor(input).forEach(function (box) {
      var dots = box.querySelectorAll('.dot');
      while (dots.length < max) {
        var s = document.createElement('span');
        s.className = 'dot';
        box.appendChild(s);
        dots = box.querySelectorAll('.dot');
      }
      for (var i = 0; i < dots.length; i++) {
        dots[i].classList.toggle('filled', i < len);
        dots[i].setAttribute('aria-hidden', 'true');
      }
      box.setAttribute('role', 'img');
      box.setAttribute('aria-label', 'Đã nhập ' + len + ' trên ' + max + ' chữ số');
    });
    keypad.classList.toggle('complete', len >= max);
  }

  function setActive(keypad, focus) {
    document.querySelectorAll('[data-keypad].active').forEach(function (k) {
      if (k === keypad) return;
      k.classList.remove('active');
      var other = targetOf(k);
      if (other) dotsFor(other).forEach(function (d) { d.classList.remove('active'); });
    });
    keypad.classList.add('active');
    var input = targetOf(keypad);
    if (input) dotsFor(input).forEach(function (d) { d.classList.add('active'); });
    if (focus) {
      var first = keypad.querySelector('button.key[data-key="1"]') || keypad.querySelector('button.key');
      if (first) {
        try { first.focus({ preventScroll: true }); } catch (e) { first.focus(); }
      }
      var r = keypad.getBoundingClientRect();
      if (r.bottom > window.innerHeight || r.top < 0) keypad.scrollIntoView({ block: 'nearest' });
    }
  }

  function nextKeypad(keypad) {
    var id = keypad.getAttribute('data-next');
    if (!id) return null;
    var el = document.getElementById(id);
    if (el && el.hasAttribute('data-keypad')) return el;
    var sel = '[data-keypad][data-target="' + (window.CSS && CSS.escape ? CSS.escape(id) : id) + '"]';
    return document.querySelector(sel);
  }

  function press(keypad, key) {
    var input = targetOf(keypad);
    if (!input || input.disabled) return;
    var max = maxLen(input);
    var before = input.value || '';
    var value = before;
    if (/^[0-9]$/.test(key)) {
      if (value.length >= max) return;
      value += key;
    } else if (key === 'back') {
      value = value.slice(0, -1);
    } else if (key === 'clear') {
      value = '';
    } else {
      return;
    }
    setActive(keypad, false);
    if (value === before) return;
    input.value = value;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
    render(keypad);
    if (value.length >= max && before.length < max) {
      keypad.dispatchEvent(new CustomEvent('keypad:complete', { bubbles: true, detail: { target: input.id } }));
      var next = nextKeypad(keypad);
      if (next) {
        var nextInput = targetOf(next);
        if (nextInput) render(next);
        setActive(next, true);
      }
    }
  }

  function initKeypad(keypad) {
    if (BOUND.has(keypad)) return;
    BOUND.add(keypad);
    keypad.setAttribute('data-keypad-ready', '');
    if (!keypad.hasAttribute('role')) keypad.setAttribute('role', 'group');
    keypad.querySelectorAll('button.key').forEach(function (b) {
      if (!b.hasAttribute('type')) b.setAttribute('type', 'button');
    });
    keypad.addEventListener('click', function (e) {
      var btn = e.target.closest('button.key[data-key]');
      if (!btn || !keypad.contains(btn) || btn.disabled) return;
      e.preventDefault();
      press(keypad, btn.getAttribute('data-key'));
    });
    render(keypad);
  }

  function chooseActive() {
    if (document.querySelector('[data-keypad].active')) return;
    var pads = document.querySelectorAll('[data-keypad]');
    for (var i = 0; i < pads.length; i++) {
      var input = targetOf(pads[i]);
      if (input && (input.value || '').length < maxLen(input)) { setActive(pads[i], false); return; }
    }
    if (pads.length) setActive(pads[0], false);
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches('[data-keypad]')) initKeypad(scope);
    scope.querySelectorAll('[data-keypad]').forEach(initKeypad);
    chooseActive();
  }

  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) &&
        !(t.tagName === 'INPUT' && (t.readOnly || t.type === 'hidden'))) return;
    var keypad = document.querySelector('[data-keypad].active');
    if (!keypad) return;
    var key = null;
    if (/^[0-9]$/.test(e.key)) key = e.key;
    else if (e.key === 'Backspace') key = 'back';
    else if (e.key === 'Delete' || e.key === 'Escape') key = 'clear';
    if (!key) return;
    e.preventDefault();
    press(keypad, key);
  });

  // Listeners live on the keypad element itself (gone with it) or on document (shared):
  // nothing to release on htmx:beforeCleanupElement.

  window.KioskKeypad = { press: press };

  function boot() { init(document); }
  if (window.htmx && typeof window.htmx.onLoad === 'function') window.htmx.onLoad(init);
  else document.addEventListener('htmx:load', function (e) { init(e.target); });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
