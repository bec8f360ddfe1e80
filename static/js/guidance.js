/* guidance.js — live advice while the customer holds the ID card to the camera.
 *
 * DOM contract: <form data-camera-form data-guidance-url="..."> with the camera.js markup
 * (video[data-camera-video], [data-camera-status], button[data-camera-shoot]).
 * About three times a second a JPEG (native size, at most 1280 px wide) of the current picture is POSTed as "frame";
 * the server answers {"ok": bool, "issues": [...], "messages": [...]} ("Đưa giấy tờ lại gần
 * hơn", …), shown in the status line by camera.js (event 'kiosk:guidance': state good / advice /
 * searching / unavailable, each its own colour). After GOOD_IN_A_ROW good frames the form shoots by itself (camera.js takes
 * the full-resolution photo and htmx sends it). On a form marked data-shoot-on-qr (step 1's
 * scan) one frame whose QR code the server read ("qr_read": true) is enough: the server keeps
 * that frame's payload, so the customer is not asked to move the card for a photo that would
 * only read the same code again.
 */
(function () {
  'use strict';

  var INTERVAL_MS = 300;
  var GOOD_IN_A_ROW = 3;
  // Native resolution up to 1280 px: the card's edge must be ≥ 450 px for its QR to read
  // (docs/vision-card.md), so a shrunk preview would always be "too far".
  var MAX_WIDTH = 1280;

  function csrfToken() { return window.kioskCsrfToken ? window.kioskCsrfToken() : ''; }

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
    var MSG_GOOD = 'OK, đang chụp… giữ yên tay';
    var MSG_UNAVAILABLE = 'Máy không tự chụp được lúc này. Vui lòng bấm «Chụp ảnh».';

    // camera.js shows the state (its own colour for each; only 'good' is green)
    function show(state, message) {
      form.dispatchEvent(new CustomEvent('kiosk:guidance', { bubbles: true,
        detail: { state: state, message: message } }));
    }

    function failed() {
      busy = false;
      good = 0;
      failures += 1;
      if (failures >= 3) show('unavailable', MSG_UNAVAILABLE);
    }

    function tick() {
      if (done || !document.body.contains(form)) return;  // swapped away: stop
      setTimeout(tick, INTERVAL_MS);
      if (busy || !(video && video.readyState >= 2 && video.videoWidth)) return;
      busy = true;
      var width = Math.min(MAX_WIDTH, video.videoWidth);
      canvas.width = width;
      canvas.height = Math.round(width * video.videoHeight / video.videoWidth);
      canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) {
        var data = new FormData();
        data.append('frame', blob, 'frame.jpg');
        fetch(url, { method: 'POST', body: data, credentials: 'same-origin',
                     headers: { 'X-CSRFToken': csrfToken() } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (advice) {
            if (done) return;
            if (!advice || (advice.issues || []).indexOf('error') >= 0) { failed(); return; }
            busy = false;
            failures = 0;
            form.setAttribute('data-guidance-ok', advice.ok ? 'true' : 'false');
            if (!(advice.issues || []).includes('no_card')) {
              document.dispatchEvent(new CustomEvent('kiosk:activity'));  // a card is in view
            }
            if (advice.qr_read && form.hasAttribute('data-shoot-on-qr') && shoot && !shoot.disabled) {
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
