/* guidance.js — live advice while the customer holds the ID card to the camera.
 *
 * DOM contract: <form data-camera-form data-guidance-url="..."> with the camera.js markup
 * (video[data-camera-video], [data-camera-status], button[data-camera-shoot]).
 * About three times a second a JPEG (native size, at most 1280 px wide) of the current picture is POSTed as "frame";
 * the server answers {"ok": bool, "issues": [...], "messages": [...]} ("Đưa giấy tờ lại gần
 * hơn", …), shown in the status line by camera.js (event 'kiosk:guidance': state good / advice /
 * searching / unavailable, each its own colour), and "track", where the card was found: sent
 * back as "track" with the next frame, the server looks there first (dropped when an answer
 * has none, or fails; kept over a «busy» answer). The same corners, scaled to the camera's
 * native size, wait in the form's [data-card-track] field, so that the photo camera.js takes
 * carries them too: its read looks for the card there first (a card held still only).
 * After GOOD_IN_A_ROW good frames the form shoots by itself (camera.js takes the full-resolution photo and htmx sends it). On a form marked data-shoot-on-qr (step 1's
 * scan) one frame whose QR code the server read ("qr_read": true) is enough: the server keeps
 * that frame's payload, so the customer is not asked to move the card for a photo that would
 * only read the same code again.
 *
 * Nothing in view: after QUIET_AFTER answers in a row saying no card is in view ("no_card"),
 * a frame goes only once every QUIET_INTERVAL_MS (each frame costs the server's CPU) until an
 * answer shows a card again; while a card is in view the pace is never slower than INTERVAL_MS.
 * The form carries data-guidance-quiet="true" while the slower pace holds.
 *
 * Step 6 holds the shutter: when the server answered that the photo was not stored (the side
 * already taken held up again: [data-capture-hold] in the form, kiosk/domain/step6.py), the
 * form does not shoot by itself until the card in front of the camera changes: a frame without
 * a card, or a frame whose 64-bit difference hash (the server's NEAR_IDENTICAL_BITS idea)
 * differs from the first frame seen under the hold by more than CHANGED_BITS. «Chụp ảnh» still
 * works by hand.
 */
(function () {
  'use strict';

  var INTERVAL_MS = 300;
  var GOOD_IN_A_ROW = 3;
  // Native resolution up to 1280 px: the card's edge must be ≥ 450 px for its QR to read
  // (docs/vision-card.md), so a shrunk preview would always be "too far".
  var MAX_WIDTH = 1280;
  // kiosk.vision.engine.GUIDANCE_MAX_SIDE: a frame with a longer side is judged shrunk to it
  var JUDGED_SIDE = 1280;
  var CHANGED_BITS = 12;
  // ~1.5 s of empty frames (the card set down, turned over, fetched from a wallet): then one
  // frame a second finds the card's return within a second.
  var QUIET_AFTER = 5;
  var QUIET_INTERVAL_MS = 1000;

  // 9×8 grey, one bit per left/right neighbour pair (as kiosk.vision.images.difference_hash)
  function dhash(source, small) {
    small.width = 9; small.height = 8;
    var ctx = small.getContext('2d');
    ctx.drawImage(source, 0, 0, 9, 8);
    var px = ctx.getImageData(0, 0, 9, 8).data;
    var bits = [];
    for (var y = 0; y < 8; y++) {
      for (var x = 0; x < 8; x++) {
        var i = (y * 9 + x) * 4, j = i + 4;
        var a = px[i] * 0.299 + px[i + 1] * 0.587 + px[i + 2] * 0.114;
        var b = px[j] * 0.299 + px[j + 1] * 0.587 + px[j + 2] * 0.114;
        bits.push(b > a ? 1 : 0);
      }
    }
    return bits;
  }

  function distance(a, b) {
    var d = 0;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) d += 1;
    return d;
  }

  function csrfToken() { return window.kioskCsrfToken ? window.kioskCsrfToken() : ''; }

  // A track "x1,y1,…,x4,y4,n" in the pixels of the frame as the server judged it, in the
  // photo's (times ``factor``); n, a count, stays.
  function scaledTrack(text, factor) {
    var parts = String(text).split(',');
    if (parts.length !== 9) return '';
    for (var i = 0; i < 8; i++) {
      var v = parseFloat(parts[i]);
      if (!isFinite(v)) return '';
      parts[i] = (v * factor).toFixed(1);
    }
    return parts.join(',');
  }

  function init(form) {
    if (form.__guidance) return;
    form.__guidance = true;
    var video = form.querySelector('video[data-camera-video]');
    var shoot = form.querySelector('[data-camera-shoot]');
    var url = form.getAttribute('data-guidance-url');
    var canvas = document.createElement('canvas');
    var good = 0;
    var busy = false;
    var done = false;

    var failures = 0;
    var empty = 0;  // answers in a row with no card in view
    var sentAt = 0;
    // where the last answer found the card: sent back with the next frame, so that the server
    // looks there first (kiosk/vision/card_track.py) instead of searching the whole frame
    var track = null;
    var trackField = form.querySelector('[data-card-track]');
    function keepTrack(value, factor) {
      track = value;
      if (trackField) trackField.value = value ? scaledTrack(value, factor) : '';
    }
    var holdEl = form.querySelector('[data-capture-hold]');
    var held = !!holdEl;  // the server said: not stored again, wait for the card to change
    var heldHash = null;
    var small = document.createElement('canvas');
    var MSG_HELD = 'Vui lòng lật giấy tờ lại (hoặc nhấc ra rồi đặt lại) để máy chụp tiếp.';
    var MSG_GOOD = 'OK, đang chụp… giữ yên tay';
    var MSG_UNAVAILABLE = 'Máy không tự chụp được lúc này. Vui lòng bấm «Chụp ảnh».';

    // camera.js shows the state (its own colour for each; only 'good' is green)
    function show(state, message) {
      form.dispatchEvent(new CustomEvent('kiosk:guidance', { bubbles: true,
        detail: { state: state, message: message } }));
    }

    function failed() {
      busy = false;
      keepTrack(null, 1);  // whatever went wrong, the next frame is searched whole
      good = 0;
      failures += 1;
      if (failures >= 3) show('unavailable', MSG_UNAVAILABLE);
    }

    function release() {
      held = false;
      good = 0;
      form.setAttribute('data-capture-held', 'false');
    }
    if (held) form.setAttribute('data-capture-held', 'true');

    function tick() {
      if (done || !document.body.contains(form)) return;  // swapped away: stop
      setTimeout(tick, INTERVAL_MS);
      if (busy || !(video && video.readyState >= 2 && video.videoWidth)) return;
      if (empty >= QUIET_AFTER && Date.now() - sentAt < QUIET_INTERVAL_MS) return;
      busy = true;
      sentAt = Date.now();
      var width = Math.min(MAX_WIDTH, video.videoWidth);
      canvas.width = width;
      canvas.height = Math.round(width * video.videoHeight / video.videoWidth);
      canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
      // the server judges a frame with its long side at most JUDGED_SIDE: its answer's pixels
      // to the photo's (camera.js shoots the camera's native frame)
      var toPhoto = Math.max(video.videoWidth, video.videoHeight)
        / Math.min(JUDGED_SIDE, Math.max(canvas.width, canvas.height));
      if (held) {
        var hash = dhash(canvas, small);
        if (heldHash === null) heldHash = hash;
        else if (distance(hash, heldHash) > CHANGED_BITS) release();
      }
      canvas.toBlob(function (blob) {
        var data = new FormData();
        data.append('frame', blob, 'frame.jpg');
        if (track) data.append('track', track);
        fetch(url, { method: 'POST', body: data, credentials: 'same-origin',
                     headers: { 'X-CSRFToken': csrfToken() } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (advice) {
            if (done) return;
            if (!advice || (advice.issues || []).indexOf('error') >= 0) { failed(); return; }
            busy = false;
            failures = 0;
            // a frame the server was too busy for says nothing about the card: keep the last
            if ((advice.issues || []).indexOf('busy') < 0) {
              keepTrack(typeof advice.track === 'string' ? advice.track : null, toPhoto);
            }
            form.setAttribute('data-guidance-ok', advice.ok ? 'true' : 'false');
            empty = (advice.issues || []).includes('no_card') ? empty + 1 : 0;
            form.setAttribute('data-guidance-quiet', empty >= QUIET_AFTER ? 'true' : 'false');
            if (!(advice.issues || []).includes('no_card')) {
              document.dispatchEvent(new CustomEvent('kiosk:activity'));  // a card is in view
            } else if (held) {
              release();  // the card left the frame: whatever comes next is a new picture
            }
            if (held) {
              good = 0;
              show('advice', MSG_HELD);
            } else if (advice.qr_read && form.hasAttribute('data-shoot-on-qr') && shoot && !shoot.disabled) {
              done = true;
              show('good', MSG_GOOD);
              shoot.click();
            } else if (advice.ok) {
              good += 1;
              show('good', MSG_GOOD);
              if (good >= GOOD_IN_A_ROW && shoot && !shoot.disabled) {
                done = true;
                shoot.click();
              }
            } else {
              good = 0;
              var issues = advice.issues || [];
              var text = (advice.messages && advice.messages[0]) || '';
              show(issues[0] === 'no_card' ? 'searching' : 'advice', text);
            }
          })
          .catch(failed);
      }, 'image/jpeg', 0.8);
    }
    tick();
  }

  function scan(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches('form[data-guidance-url]')) init(scope);
    scope.querySelectorAll('form[data-guidance-url]').forEach(init);
  }

  if (window.htmx && htmx.onLoad) htmx.onLoad(scan);
  document.addEventListener('DOMContentLoaded', function () { scan(document); });
})();
