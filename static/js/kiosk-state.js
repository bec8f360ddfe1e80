/* kiosk-state.js — the kiosk tells the console how it is: camera, screen, browser.
 *
 * On every kiosk page of an enrolled kiosk (<body data-kiosk-state="URL">): one report when the
 * page loads, then one every 30 s while it stays open. The server keeps at most one every ~20 s
 * per kiosk and works out the chip reader and the printer itself. A report that fails is simply
 * dropped: the console then shows the kiosk as silent, which is the truth.
 */
(function () {
  'use strict';

  var EVERY_MS = 30000;

  function cameraState() {
    var devices = navigator.mediaDevices && navigator.mediaDevices.enumerateDevices
      ? navigator.mediaDevices.enumerateDevices().then(function (list) {
          return list.some(function (d) { return d.kind === 'videoinput'; });
        }, function () { return false; })
      : Promise.resolve(false);
    var permission = navigator.permissions && navigator.permissions.query
      ? navigator.permissions.query({ name: 'camera' }).then(function (p) { return p.state; },
                                                            function () { return ''; })
      : Promise.resolve('');
    return Promise.all([devices, permission]).then(function (both) {
      if (both[1] === 'denied') return 'denied';
      if (!both[0]) return 'none';
      return both[1] === 'granted' ? 'allowed' : 'found';
    });
  }

  function report(url) {
    cameraState().then(function (camera) {
      var body = new URLSearchParams();
      body.set('camera', camera);
      body.set('user_agent', navigator.userAgent || '');
      body.set('screen_width', String(window.screen ? window.screen.width : 0));
      body.set('screen_height', String(window.screen ? window.screen.height : 0));
      var token = window.kioskCsrfToken ? window.kioskCsrfToken() : '';
      return fetch(url, { method: 'POST', body: body, credentials: 'same-origin',
                          headers: { 'X-CSRFToken': token, 'X-Requested-With': 'fetch' } });
    }).catch(function () { /* dropped: the console shows the kiosk as silent */ });
  }

  function start() {
    var url = document.body && document.body.getAttribute('data-kiosk-state');
    if (!url) return;
    report(url);
    window.setInterval(function () { report(url); }, EVERY_MS);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
