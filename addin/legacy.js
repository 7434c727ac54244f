/* global window, document, navigator */
/*
 * Runs first, as a classic ES5 script, in every webview. Office builds that still host add-ins in
 * Internet Explorer (Trident) or the old Edge (EdgeHTML) cannot run the task pane's ES2020 module:
 * instead of a dead pane they get this message. Chromium-based WebView2 and Safari say nothing here.
 */
(function () {
  var ua = navigator.userAgent || '';
  var tooOld = /Trident\/|MSIE |Edge\/\d/.test(ua) || !('noModule' in document.createElement('script'));
  if (!tooOld) return;
  window.__baobeiTooOld = true;
  function show() {
    document.body.innerHTML =
      '<main class="too-old" role="alert">' +
      '<h1>此 Excel 版本过旧</h1>' +
      '<p>本加载项需要较新的 Office：请使用 Excel 网页版（https://www.office.com），' +
      '或把 Office 更新到 Microsoft 365 / Office 2021 及以上，然后重新打开本窗格。</p>' +
      '<h1 lang="en">This Excel is too old</h1>' +
      '<p lang="en">The add-in needs a current Office: use Excel on the web (https://www.office.com), ' +
      'or update Office to Microsoft 365 / Office 2021 or later, then open this pane again.</p>' +
      '</main>';
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', show);
  else show();
})();
