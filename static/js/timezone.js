// Tells the server the browser's time zone (a cookie read by TimeZoneMiddleware), so dates are
// shown in the person's zone from the next page on. Written only when it changes.
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || /[^A-Za-z0-9_+\-\/]/.test(zone)) return;
  var current = document.cookie.match(/(?:^|; )tz=([^;]*)/);
  if (current && decodeURIComponent(current[1]) === zone) return;
  document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
})();
