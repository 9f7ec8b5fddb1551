/* The certificate's print button: attached here, because the page's CSP forbids inline handlers (onclick). */
(function () {
  'use strict';
  var button = document.getElementById('print-button');
  if (!button) { return; }
  button.hidden = false;  // without JavaScript the browser's own print menu still works; the button would not
  button.addEventListener('click', function () { window.print(); });
}());
