/* liveness.js — records the liveness challenge at step 6 and sends it to the server.
 *
 * DOM contract:
 *   <form data-liveness-form data-liveness-url="..." data-challenge='[["blink","Chớp mắt"], ...]'>
 *     <video data-camera-video>         (opened by camera.js: this form is also data-camera-form)
 *     <div data-liveness-prompt></div>  (big prompt over the video)
 *     <p data-camera-status></p>
 *     <button type="button" data-liveness-start>Bắt đầu</button>
 *   </form>
 * The server decides: the prompts below only pace the customer. Frames (480 px wide JPEG,
 * ~8 per second, never mirrored) and their timestamps in ms are POSTed as multipart
 * "frames" + "timestamps"; the answer (the step's partial) is swapped into #wizard. While it
 * works, <progress data-liveness-progress> and the status line show «Đang gửi hình… n/N», then
 * «Đang kiểm tra…» (form data-liveness-state: recording → sending → judging).
 */
(function () {
  'use strict';

  var FPS = 8;
  var WIDTH = 480;
  var LEAD_IN_MS = 1500;     // look straight at the camera first: the kept face photo
  var ACTION_MS = { blink: 3500, turn_left: 4000, turn_right: 4000 };
  var JPEG_QUALITY = 0.8;

  function csrfToken() { return window.kioskCsrfToken ? window.kioskCsrfToken() : ''; }

  function setText(el, text) { if (el) el.textContent = text; }

  function grab(video, canvas) {
    var h = Math.round(WIDTH * (video.videoHeight / video.videoWidth));
    canvas.width = WIDTH;
    canvas.height = h;
    canvas.getContext('2d').drawImage(video, 0, 0, WIDTH, h);
    return new Promise(function (resolve) { canvas.toBlob(resolve, 'image/jpeg', JPEG_QUALITY); });
  }

  function record(form, video, challenge, promptEl) {
    var canvas = document.createElement('canvas');
    var frames = [];
    var stamps = [];
    var t0 = performance.now();
    var schedule = [{ until: LEAD_IN_MS, text: 'Nhìn thẳng vào camera' }];
    var at = LEAD_IN_MS;
    challenge.forEach(function (item) {
      at += ACTION_MS[item[0]] || 4000;
      schedule.push({ until: at, text: item[1] });
    });
    return new Promise(function (resolve) {
      var timer = setInterval(function () {
        var elapsed = performance.now() - t0;
        var slot = schedule.find(function (s) { return elapsed < s.until; });
        if (!slot) {
          clearInterval(timer);
          setText(promptEl, '');
          Promise.all(frames).then(function (blobs) { resolve({ blobs: blobs, stamps: stamps }); });
          return;
        }
        setText(promptEl, slot.text);
        document.dispatchEvent(new CustomEvent('kiosk:activity'));
        if (video.readyState >= 2 && video.videoWidth) {
          stamps.push(Math.round(elapsed));
          frames.push(grab(video, canvas));
        }
      }, 1000 / FPS);
    });
  }

  // Progress while it works, not a bare «Đang kiểm tra…»: the frames sent so far out of all
  // (measured from the upload's own progress), then the server's judging (a short, moving bar).
  function progress(form, statusEl, sent, total) {
    var bar = form.querySelector('progress[data-liveness-progress]');
    if (bar) {
      bar.hidden = false;
      bar.max = total;
      if (sent === null) bar.removeAttribute('value');  // judging: indeterminate
      else bar.value = sent;
    }
    form.setAttribute('data-liveness-state', sent === null ? 'judging' : 'sending');
    setText(statusEl, sent === null ? 'Đang kiểm tra… ' + total + '/' + total + ' hình đã gửi'
                                    : 'Đang gửi hình… ' + sent + '/' + total);
  }

  function send(form, recording, statusEl) {
    var data = new FormData();
    var total = 0;
    recording.blobs.forEach(function (blob, i) {
      if (blob) { data.append('frames', blob, 'f' + i + '.jpg'); total += 1; }
    });
    data.append('timestamps', recording.stamps.filter(function (_, i) {
      return recording.blobs[i];
    }).join(','));
    progress(form, statusEl, 0, total);
    return post(form, statusEl, data, total, 0).then(function (html) {
      var target = document.getElementById('wizard');
      if (window.htmx && htmx.swap && target) {
        htmx.swap(target, html, { swapStyle: 'innerHTML' });
        window.scrollTo(0, 0);
      } else {
        window.location.reload();
      }
    });
  }

  // «Máy đang bận» (503 + Retry-After): the same recording is sent again after the wait, up to
  // BUSY_MAX_TRIES times; the customer does not have to move again.
  var BUSY_MAX_TRIES = 30;
  var MSG_BUSY = 'Máy đang bận, xin chờ trong giây lát. Đoạn ghi hình sẽ được gửi lại.';

  function post(form, statusEl, data, total, tries) {
    // XMLHttpRequest, not fetch(): only it reports the upload's progress
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.getAttribute('data-liveness-url'));
      xhr.withCredentials = true;
      xhr.setRequestHeader('X-CSRFToken', csrfToken());
      xhr.setRequestHeader('HX-Request', 'true');
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) progress(form, statusEl, Math.floor(total * e.loaded / e.total), total);
      };
      xhr.upload.onload = function () { progress(form, statusEl, null, total); };
      xhr.onload = function () {
        if (xhr.status === 503 && xhr.getResponseHeader('Retry-After') && tries < BUSY_MAX_TRIES) {
          setText(statusEl, MSG_BUSY);
          var seconds = parseInt(xhr.getResponseHeader('Retry-After'), 10) || 2;
          window.setTimeout(function () {
            post(form, statusEl, data, total, tries + 1).then(resolve, reject);
          }, seconds * 1000);
          return;
        }
        if (xhr.status < 200 || xhr.status >= 300) { reject(new Error('HTTP ' + xhr.status)); return; }
        resolve(xhr.responseText);
      };
      xhr.onerror = function () { reject(new Error('network')); };
      xhr.send(data);
    });
  }

  function init(form) {
    if (form.__livenessReady) return;
    form.__livenessReady = true;
    var button = form.querySelector('[data-liveness-start]');
    var video = form.querySelector('video[data-camera-video]');
    var promptEl = form.querySelector('[data-liveness-prompt]');
    var statusEl = form.querySelector('[data-camera-status]');
    var challenge = [];
    try { challenge = JSON.parse(form.getAttribute('data-challenge') || '[]'); } catch (e) { challenge = []; }
    if (!button || !video || !challenge.length) return;
    button.addEventListener('click', function () {
      if (!(video.readyState >= 2 && video.videoWidth)) {
        setText(statusEl, 'Camera chưa sẵn sàng, xin vui lòng chờ trong giây lát.');
        return;
      }
      form.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
      form.setAttribute('data-liveness-state', 'recording');
      record(form, video, challenge, promptEl)
        .then(function (recording) { return send(form, recording, statusEl); })
        .catch(function () {
          form.setAttribute('data-liveness-state', 'error');
          setText(statusEl, 'Không gửi được hình. Vui lòng bấm «Bắt đầu» để thử lại.');
          form.querySelectorAll('button').forEach(function (b) { b.disabled = false; });
        });
    });
  }

  function scan(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches('form[data-liveness-form]')) init(scope);
    scope.querySelectorAll('form[data-liveness-form]').forEach(init);
  }

  if (window.htmx && htmx.onLoad) htmx.onLoad(scan);
  document.addEventListener('DOMContentLoaded', function () { scan(document); });
})();
