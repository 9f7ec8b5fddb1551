/* Counter console: keep the scan field ready for the next USB scan; offer the WeCom camera when wx is there. */
(function () {
  'use strict';
  var field = document.getElementById('qr_text');
  var form = document.getElementById('scan-form');
  var via = document.getElementById('scan-via');
  var camera = document.getElementById('scan-camera');
  if (!field || !form) { return; }
  field.value = '';
  field.focus();

  // WeCom JS-SDK: present only inside WeCom when the server could sign a config (see counter_pages.py).
  var wx = window.wx;
  if (!wx || typeof wx.scanQRCode !== 'function' || !window.lixiaoJssdkConfig) { return; }
  var config = window.lixiaoJssdkConfig;
  config.jsApiList = config.jsApiList || ['scanQRCode'];
  wx.config(config);
  wx.ready(function () {
    camera.hidden = false;
    camera.addEventListener('click', function () {
      wx.scanQRCode({
        needResult: 1,
        scanType: ['qrCode'],
        success: function (res) {
          field.value = res.resultStr || '';
          via.value = 'wecom';
          form.submit();
        }
      });
    });
  });
}());
