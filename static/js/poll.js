// The one fragment poller (issue 12). Pages show a server-rendered fragment for running work
// (a preview, checks, an upscale, an export, a pack); while the fragment says the work is busy,
// fetch it again and swap it in; once it says it has settled, stop.
//
//   window.draftroomPoll.watch({
//     target: element,             // what is swapped
//     url: "/fragment/url",        // where the fresh fragment comes from
//     swap: "inner",               // "inner": the target's content; "outer": the target itself,
//                                  //   replaced by the fragment's root element
//     busy: '[data-active="1"]',   // poll while this matches in the target (or a function)
//     settled: function (target) {},  // once, when this watcher's work goes from busy to settled
//   });
//
// One policy for every page: a request every 1.5 s while busy. After a failed request (no
// answer, not a 2xx, or redirected) wait twice as long as last time, up to 30 s, and go back to
// 1.5 s after the next success: a struggling server is not hammered by every open tab. Nothing is
// fetched while the tab is hidden; when it shows again (or comes back from the back/forward
// cache) the fragment is fetched at once, so what the person sees is never older than the
// moment they look.
//
// Sharing: watchers of one target share one poller. It runs while any of them is busy, so the
// batch grid, which waits for both previews and checks, asks once per tick, not twice, and two
// loops never swap the same element in turn. Each poller has at most one request in flight;
// an answer that comes back after the poller was stopped is dropped.
(function () {
  "use strict";
  var INTERVAL = 1500;
  var MAX_INTERVAL = 30000;
  var pollers = [];

  function hidden() { return document.visibilityState === "hidden"; }

  function isBusy(watcher, target) {
    if (typeof watcher.busy === "function") return Boolean(watcher.busy(target));
    return target.matches(watcher.busy) || target.querySelector(watcher.busy) !== null;
  }

  function Poller(target, url, swap) {
    this.target = target;
    this.url = url;
    this.swap = swap;
    this.watchers = [];
    this.timer = null;
    this.inFlight = false;
    this.failures = 0;
    this.stopped = false;
  }

  Poller.prototype.delay = function () {
    return Math.min(MAX_INTERVAL, INTERVAL * Math.pow(2, this.failures));
  };

  Poller.prototype.busy = function () {
    var target = this.target;
    return this.watchers.some(function (watcher) { return isBusy(watcher, target); });
  };

  // Which watchers are busy now; fires `settled` for those that just stopped being busy.
  Poller.prototype.check = function () {
    var any = false;
    var target = this.target;
    this.watchers.forEach(function (watcher) {
      var busy = isBusy(watcher, target);
      if (watcher.wasBusy && !busy && watcher.settled) watcher.settled(target);
      watcher.wasBusy = busy;
      any = any || busy;
    });
    return any;
  };

  Poller.prototype.schedule = function (ms) {
    var self = this;
    window.clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped || hidden()) return; // "visibilitychange" starts it again
    this.timer = window.setTimeout(function () { self.tick(); }, ms);
  };

  Poller.prototype.stop = function () {
    window.clearTimeout(this.timer);
    this.timer = null;
    this.stopped = true;
  };

  Poller.prototype.place = function (html) {
    if (this.swap === "outer") {
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var fresh = holder.firstElementChild;
      if (!fresh) return;
      this.target.replaceWith(fresh);
      this.target = fresh;
    } else {
      this.target.innerHTML = html;
    }
  };

  Poller.prototype.tick = function () {
    var self = this;
    this.timer = null;
    if (this.stopped || this.inFlight || hidden()) return;
    // Nothing left to wait for (or nothing to show it in): no request at all.
    if (!this.target.isConnected || !this.busy()) { this.stop(); return; }
    this.inFlight = true;
    fetch(this.url, { credentials: "same-origin", cache: "no-store" })
      // A redirected answer is a failure too: an expired session answers with the login page,
      // which must not be swapped into a panel.
      .then(function (resp) {
        if (!resp.ok || resp.redirected) throw new Error("HTTP " + resp.status);
        return resp.text();
      })
      // Two callbacks, not .catch(): a fault in a page's `settled` is not a failed request.
      .then(function (html) { self.answered(html); }, function () { self.failed(); });
  };

  Poller.prototype.answered = function (html) {
    this.inFlight = false;
    if (this.stopped || !this.target.isConnected) return;
    this.failures = 0;
    // An unchanged fragment is not swapped again: images would reload and focus would go.
    if (html !== this.lastHtml) {
      this.lastHtml = html;
      this.place(html);
    }
    if (this.check()) this.schedule(INTERVAL); else this.stop();
  };

  Poller.prototype.failed = function () {
    this.inFlight = false;
    this.failures += 1;
    this.schedule(this.delay());
  };

  function watch(options) {
    var target = options.target;
    if (!target || !options.url) return null;
    var watcher = { busy: options.busy || '[data-active="1"]', settled: options.settled };
    var poller = null;
    for (var i = 0; i < pollers.length; i++) {
      if (pollers[i].target === target && !pollers[i].stopped) poller = pollers[i];
    }
    if (poller === null) {
      poller = new Poller(target, options.url, options.swap === "outer" ? "outer" : "inner");
      pollers.push(poller);
    } else if (poller.url !== options.url) {
      // One element, two sources: the later answer would undo the earlier one.
      throw new Error("draftroomPoll: " + options.url + " and " + poller.url + " swap one element");
    }
    watcher.wasBusy = isBusy(watcher, target);
    poller.watchers.push(watcher);
    if (watcher.wasBusy && poller.timer === null && !poller.inFlight) poller.schedule(INTERVAL);
    return poller;
  }

  // Fetch every running poller's fragment now (shown again, or back from the back/forward cache).
  function resume() {
    pollers = pollers.filter(function (p) { return !p.stopped; });
    pollers.forEach(function (p) {
      window.clearTimeout(p.timer);
      p.timer = null;
      p.tick();
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (hidden()) {
      pollers.forEach(function (p) { window.clearTimeout(p.timer); p.timer = null; });
    } else {
      resume();
    }
  });
  window.addEventListener("pageshow", function (event) { if (event.persisted) resume(); });

  window.draftroomPoll = { watch: watch, INTERVAL: INTERVAL, MAX_INTERVAL: MAX_INTERVAL };
})();
