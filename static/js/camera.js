/* camera.js — live camera capture for the ID-card and face photos (step 6).
 *
 * DOM contract (per form):
 *   <form data-camera-form [data-auto-shoot-ms="5000"] hx-post="...">
 *     <div class="camera [mirror]">
 *       <video data-camera-video autoplay playsinline muted></video>
 *       <div class="camera-guide card"></div>          (or .camera-guide.face)
 *     </div>
 *     <p class="camera-status" data-camera-status></p>
 *     <select data-camera-select></select>               (optional: choose the camera)
 *     <input type="hidden" name="image_data">
 *     <button type="button" data-camera-shoot>Chụp ảnh</button>
 *   </form>
 * On "shoot" the current frame (native resolution) becomes a JPEG data URL (quality 0.92)
 * in image_data and the form is submitted with form.requestSubmit(), so htmx does the POST.
 * One MediaStream is shared by every camera form; it is stopped when no camera form is left
 * in the page after a swap, and on pagehide.
 */
(function () {
  'use strict';

  var MSG_OPENING = 'Đang mở camera…';
  var MSG_READY = 'Camera đã sẵn sàng';
  var MSG_FAILED = 'Máy không mở được camera. Bấm «Gọi nhân viên» để được giúp, hoặc tải ảnh lên từ máy quét giấy tờ.';
  var MSG_DENIED = 'Camera đang bị chặn trên máy này. Bấm «Gọi nhân viên» để nhân viên mở lại camera.';
  var MSG_ABSENT = 'Không tìm thấy camera (có thể camera chưa được cắm). Bấm «Gọi nhân viên» để được giúp.';
  var MSG_NOT_READY = 'Camera chưa sẵn sàng, xin vui lòng chờ trong giây lát.';
  var MSG_SENDING = 'Đang gửi ảnh…';
  // kiosk.js already says «Máy đang bận» at the top of the form: here, what the customer needs
  // to know beside the shutter — the photo is kept, no need to shoot again.
  var MSG_BUSY = 'Ảnh đã chụp xong. Máy sẽ tự gửi lại, quý khách không cần chụp lại.';
  var STORAGE_KEY = 'kiosk.cameraDeviceId';
  var JPEG_QUALITY = 0.92;

  var stream = null;          // the shared MediaStream
  var streamDeviceId = null;  // deviceId the shared stream was opened for (null = default)
  var pending = null;         // in-flight getUserMedia promise
  var stopTimer = null;
  var forms = new Set();      // initialised, still-alive camera forms
  var STATE = new WeakMap();  // form -> per-form state

  function preferredDeviceId() {
    try { return window.localStorage.getItem(STORAGE_KEY) || null; } catch (e) { return null; }
  }
  function rememberDeviceId(id) {
    try {
      if (id) window.localStorage.setItem(STORAGE_KEY, id);
      else window.localStorage.removeItem(STORAGE_KEY);
    } catch (e) { /* private mode: ignore */ }
  }

  function streamIsLive(s) {
    return !!s && s.getVideoTracks().some(function (t) { return t.readyState === 'live'; });
  }

  function stopStream() {
    if (stopTimer) { clearTimeout(stopTimer); stopTimer = null; }
    if (stream) {
      stream.getTracks().forEach(function (t) { try { t.stop(); } catch (e) { /* ignore */ } });
    }
    stream = null;
    streamDeviceId = null;
  }

  function openStream(deviceId) {
    var want = deviceId || null;
    if (streamIsLive(stream) && (want === null || want === streamDeviceId)) {
      return Promise.resolve(stream);
    }
    if (pending && pending.deviceId === want) return pending.promise;
    if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') {
      return Promise.reject(new Error('getUserMedia unavailable'));
    }
    var video = { width: { ideal: 1280 }, height: { ideal: 720 } };
    if (want) video.deviceId = { exact: want };
    var p = navigator.mediaDevices.getUserMedia({ video: video, audio: false })
      .catch(function (err) {
        // A remembered camera may have been unplugged: fall back to the default one.
        if (want && err && (err.name === 'OverconstrainedError' || err.name === 'NotFoundError')) {
          rememberDeviceId(null);
          want = null;
          return navigator.mediaDevices.getUserMedia({
            video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false
          });
        }
        throw err;
      })
      .then(function (s) {
        if (stream && stream !== s) stopStream();
        stream = s;
        var track = s.getVideoTracks()[0];
        var settings = track && track.getSettings ? track.getSettings() : {};
        streamDeviceId = want || settings.deviceId || null;
        pending = null;
        return s;
      }, function (err) {
        pending = null;
        throw err;
      });
    pending = { deviceId: want, promise: p };
    return p;
  }

  function q(form, sel) { return form.querySelector(sel); }

  function setStatus(st, text, kind) {
    var el = st.status;
    if (!el) return;
    el.textContent = text;
    el.classList.remove('is-starting', 'is-ready', 'is-error', 'is-busy',
                        'is-good', 'is-advice', 'is-searching');
    if (kind) el.classList.add('is-' + kind);
    st.form.setAttribute('data-camera-state', kind || '');
  }

  function populateSelect(st) {
    var select = st.select;
    if (!select || !navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    navigator.mediaDevices.enumerateDevices().then(function (devices) {
      if (!st.alive) return;
      var cams = devices.filter(function (d) { return d.kind === 'videoinput'; });
      var wrap = select.closest('[data-camera-select-wrap]') || select;
      if (cams.length < 2) { wrap.hidden = true; return; }
      wrap.hidden = false;
      select.textContent = '';
      cams.forEach(function (d, i) {
        var opt = document.createElement('option');
        opt.value = d.deviceId;
        opt.textContent = d.label || ('Camera ' + (i + 1));
        if (d.deviceId && d.deviceId === streamDeviceId) opt.selected = true;
        select.appendChild(opt);
      });
    }).catch(function () { /* keep whatever the template rendered */ });
  }

  function attach(st) {
    setStatus(st, MSG_OPENING, 'starting');
    st.shoot && (st.shoot.disabled = true);
    var deviceId = (st.select && st.select.value) || preferredDeviceId();
    openStream(deviceId).then(function (s) {
      if (!st.alive) { scheduleStopCheck(); return; }
      var video = st.video;
      video.muted = true;
      video.setAttribute('playsinline', '');
      video.setAttribute('muted', '');
      if (video.srcObject !== s) video.srcObject = s;
      var onReady = function () {
        if (!st.alive) return;
        setStatus(st, MSG_READY, 'ready');
        if (st.shoot) st.shoot.disabled = false;
        populateSelect(st);
        startAutoShoot(st);
      };
      var play = video.play();
      var whenReady = function () {
        if (video.readyState >= 2 && video.videoWidth) onReady();
        else video.addEventListener('loadeddata', onReady, { once: true });
      };
      if (play && typeof play.then === 'function') play.then(whenReady, whenReady);
      else whenReady();
    }).catch(function (err) {
      if (!st.alive) return;
      var name = err && err.name;
      setStatus(st, name === 'NotAllowedError' || name === 'SecurityError' ? MSG_DENIED
        : (name === 'NotFoundError' || name === 'OverconstrainedError' ? MSG_ABSENT : MSG_FAILED), 'error');
      // No dead end: the clerk button under the status appears (templates: data-camera-failed).
      var help = q(st.form, '[data-camera-failed]');
      if (help) help.hidden = false;
      // ...and the clerk is called at once (POST /help, camera_unavailable): a customer
      // without a camera is blocked, the board must show it without a tap.
      var call = help && help.querySelector('[data-help-reason]');
      if (call && !document.querySelector('[data-clerk-called]')) call.click();
      // no camera, no automatic shot: withdraw the promise
      st.form.querySelectorAll('[data-auto-capture-note]').forEach(function (el) { el.hidden = true; });
      if (st.shoot) st.shoot.disabled = true;
      var wrap = st.select && (st.select.closest('[data-camera-select-wrap]') || st.select);
      if (wrap) wrap.hidden = true;
    });
  }

  function cancelAutoShoot(st) {
    if (st.autoTimer) { clearInterval(st.autoTimer); st.autoTimer = null; }
    if (st.countdownEl && st.countdownEl.parentNode) st.countdownEl.parentNode.removeChild(st.countdownEl);
    st.countdownEl = null;
  }

  function startAutoShoot(st) {
    var ms = parseInt(st.form.getAttribute('data-auto-shoot-ms'), 10);
    if (!(ms > 0) || st.autoDone) return;
    st.autoDone = true;  // once per form instance
    cancelAutoShoot(st);
    var box = st.video.closest('.camera') || st.video.parentNode;
    var el = document.createElement('div');
    el.className = 'camera-countdown';
    el.setAttribute('aria-hidden', 'true');
    box.appendChild(el);
    st.countdownEl = el;
    var deadline = Date.now() + ms;
    var tick = function () {
      if (!st.alive) { cancelAutoShoot(st); return; }
      var left = deadline - Date.now();
      if (left <= 0) {
        cancelAutoShoot(st);
        shoot(st);
        return;
      }
      var secs = Math.ceil(left / 1000);
      el.textContent = String(secs);
      setStatus(st, 'Giữ yên, máy sẽ tự chụp sau ' + secs + ' giây…', 'ready');
    };
    tick();
    st.autoTimer = setInterval(tick, 200);
  }

  function shoot(st) {
    cancelAutoShoot(st);
    if (st.busy) return;
    var video = st.video;
    var w = video.videoWidth, h = video.videoHeight;
    if (!w || !h || video.readyState < 2) {
      setStatus(st, MSG_NOT_READY, 'starting');
      return;
    }
    var canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    var ctx = canvas.getContext('2d');
    ctx.drawImage(video, 0, 0, w, h);   // never mirrored, whatever the preview CSS does
    var dataUrl;
    try { dataUrl = canvas.toDataURL('image/jpeg', JPEG_QUALITY); } catch (e) { dataUrl = ''; }
    if (!dataUrl || dataUrl.indexOf('data:image/jpeg') !== 0) {
      setStatus(st, MSG_FAILED, 'error');
      return;
    }
    st.input.value = dataUrl;
    st.busy = true;
    if (st.shoot) st.shoot.disabled = true;
    var box = video.closest('.camera');
    if (box) {
      box.classList.remove('camera-flash');
      void box.offsetWidth;
      box.classList.add('camera-flash');
    }
    setStatus(st, MSG_SENDING, 'busy');
    if (typeof st.form.requestSubmit === 'function') st.form.requestSubmit();
    else st.form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  }

  function afterRequest(evt) {
    // The form stayed in place (network or server error): let the customer try again.
    forms.forEach(function (form) {
      var st = STATE.get(form);
      if (!st || !st.busy) return;
      if (evt.target !== form && !form.contains(evt.target)) return;
      if (form.getAttribute('data-busy-retry') === 'true') {
        // «Máy đang bận»: kiosk.js sends this same photo again in a moment; stay busy, say why
        setStatus(st, MSG_BUSY, 'busy');
        return;
      }
      st.busy = false;
      if (!form.isConnected) return;
      if (st.shoot) st.shoot.disabled = false;
      if (streamIsLive(stream)) setStatus(st, MSG_READY, 'ready');
    });
  }

  function teardown(form) {
    var st = STATE.get(form);
    if (!st) return;
    st.alive = false;
    cancelAutoShoot(st);
    forms.delete(form);
    STATE.delete(form);
    form.removeAttribute('data-camera-ready');
    try { st.video.pause(); } catch (e) { /* ignore */ }
    scheduleStopCheck();
  }

  function scheduleStopCheck() {
    if (stopTimer) clearTimeout(stopTimer);
    // Long enough for htmx to insert the next step (which may reuse the stream).
    stopTimer = setTimeout(function () {
      stopTimer = null;
      forms.forEach(function (form) { if (!form.isConnected) teardown(form); });
      if (!document.querySelector('form[data-camera-form]')) stopStream();
    }, 1500);
  }

  function initForm(form) {
    if (STATE.has(form)) return;
    var video = q(form, 'video[data-camera-video]');
    var input = q(form, 'input[name="image_data"]');
    if (!video || !input) return;
    var st = {
      form: form,
      video: video,
      input: input,
      shoot: q(form, 'button[data-camera-shoot]'),
      status: q(form, '[data-camera-status]'),
      select: q(form, 'select[data-camera-select]'),
      alive: true,
      busy: false,
      autoDone: false,
      autoTimer: null,
      countdownEl: null
    };
    STATE.set(form, st);
    forms.add(form);
    form.setAttribute('data-camera-ready', '');
    if (st.status) {
      if (!st.status.hasAttribute('role')) st.status.setAttribute('role', 'status');
      if (!st.status.hasAttribute('aria-live')) st.status.setAttribute('aria-live', 'polite');
    }
    if (st.shoot) {
      st.shoot.addEventListener('click', function (e) {
        e.preventDefault();
        shoot(st);
      });
    }
    if (st.select) {
      st.select.addEventListener('change', function () {
        var id = st.select.value || null;
        rememberDeviceId(id);
        cancelAutoShoot(st);
        stopStream();
        forms.forEach(function (f) {
          var other = STATE.get(f);
          if (other && other.alive) attach(other);
        });
      });
    }
    attach(st);
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches('form[data-camera-form]')) initForm(scope);
    scope.querySelectorAll('form[data-camera-form]').forEach(initForm);
  }

  // Live guidance (guidance.js) reports each preview frame as a 'kiosk:guidance' event on the
  // form: {state, message}. Each state has its own look, and only 'good' («OK, đang chụp»)
  // is green; 'unavailable' means nothing will shoot by itself, so the form's promise that
  // the machine shoots by itself ([data-auto-capture-note]) is hidden.
  var GUIDANCE_KIND = { good: 'good', advice: 'advice', searching: 'searching',
                        unavailable: 'starting' };
  document.addEventListener('kiosk:guidance', function (evt) {
    var form = evt.target && evt.target.closest ? evt.target.closest('form[data-camera-form]') : null;
    var st = form && STATE.get(form);
    if (!st || !st.alive || st.busy) return;
    var d = evt.detail || {};
    // the look changes, the camera's own state (data-camera-state: ready) does not
    var camera = form.getAttribute('data-camera-state');
    setStatus(st, d.message || '', GUIDANCE_KIND[d.state] || 'advice');
    form.setAttribute('data-camera-state', camera || '');
    form.setAttribute('data-guidance-state', d.state || '');
    var promise = d.state !== 'unavailable';
    form.querySelectorAll('[data-auto-capture-note]').forEach(function (el) { el.hidden = !promise; });
  });

  document.addEventListener('htmx:beforeCleanupElement', function (evt) {
    var el = evt.target;
    if (el && el.matches && el.matches('form[data-camera-form]')) teardown(el);
  });
  document.addEventListener('htmx:afterRequest', afterRequest);
  document.addEventListener('htmx:afterSettle', function () {
    forms.forEach(function (form) { if (!form.isConnected) teardown(form); });
    if (!document.querySelector('form[data-camera-form]') && stream) scheduleStopCheck();
  });
  window.addEventListener('pagehide', function () {
    forms.forEach(function (form) {
      var st = STATE.get(form);
      if (st) cancelAutoShoot(st);
    });
    stopStream();
  });
  window.addEventListener('pageshow', function (evt) {
    if (!evt.persisted) return;  // restored from the back/forward cache: reopen the camera
    forms.forEach(function (form) {
      var st = STATE.get(form);
      if (st && st.alive && form.isConnected) attach(st);
    });
  });

  function boot() { init(document); }
  if (window.htmx && typeof window.htmx.onLoad === 'function') window.htmx.onLoad(init);
  else document.addEventListener('htmx:load', function (e) { init(e.target); });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
