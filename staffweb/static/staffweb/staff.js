// The staff pages' one script: DKFDS components, the error summary focused after a refused form, the focus
// after an htmx swap, Enter in a search field (the plan builder's library, IT's citizen look-up), and live
// updates: a list marked data-live-team follows its team's events on the websocket stream (the page's
// session cookie logs it in; no token reaches this script) and fetches itself again through htmx when
// one arrives. The events carry ids only; the server renders the list after its own access check.
"use strict";
(function () {
  var LIVE_SELECTOR = "[data-live-team], [data-live-user]";
  var REFRESH_DELAY_MS = 150;
  var socket = null;
  var socketTeam = null;
  var refreshTimer = null;
  var failures = 0;

  function liveElement() {
    return document.querySelector(LIVE_SELECTOR);
  }

  function refresh() {
    if (refreshTimer !== null) {
      return;
    }
    refreshTimer = window.setTimeout(function () {
      refreshTimer = null;
      var element = liveElement();
      if (element && window.htmx) {
        window.htmx.trigger(element, "mestring:changed");
      }
    }, REFRESH_DELAY_MS);
  }

  function connect() {
    var element = liveElement();
    if (!element || !window.WebSocket) {
      return;
    }
    // A list marked data-live-user (IT's health board) follows the person's own events instead of a team's.
    var team = element.getAttribute("data-live-team") || "";
    if (socket !== null && socketTeam === team) {
      return;
    }
    if (socket !== null) {
      socket.onclose = null;
      socket.close(1000);
    }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + window.location.host + "/ws/v1/" + (team ? "?team_id=" + encodeURIComponent(team) : "");
    var opened = new WebSocket(url, ["mestring.v1"]);
    socket = opened;
    socketTeam = team;
    opened.onmessage = function (message) {
      var frame;
      try {
        frame = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (frame.type === "hello") {
        failures = 0;
        document.documentElement.setAttribute("data-live", "on");
      } else if ((frame.type === "team_event" && frame.team_id === socketTeam) || (frame.type === "notification" && !socketTeam)) {
        refresh();
      }
    };
    opened.onclose = function (event) {
      if (socket !== opened) {
        return;
      }
      socket = null;
      document.documentElement.setAttribute("data-live", "off");
      failures += 1;
      // A login that ended (4401 twice running) stays off; anything else tries again, more slowly each time.
      if (event.code === 4401 && failures > 1) {
        return;
      }
      window.setTimeout(function () {
        connect();
        refresh();
      }, Math.min(30000, 1000 * failures));
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.DKFDS && typeof window.DKFDS.init === "function") {
      window.DKFDS.init();
    }
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
    }
    connect();
    // Enter in a field marked data-enter-presses presses the button it names, not the form's first one: the
    // exercise library's search field searches (elsewhere in the plan form Enter previews), the CPR field of
    // IT's assign form finds the citizen (elsewhere in that form Enter assigns).
    document.body.addEventListener("keydown", function (event) {
      var field = event.target;
      var name = field && field.getAttribute && field.getAttribute("data-enter-presses");
      if (event.key !== "Enter" || event.isComposing || !name) {
        return;
      }
      var button = document.getElementById(name);
      if (button && !button.disabled) {
        event.preventDefault();
        button.click();
      }
    });
    // What a swap brings in marked autofocus takes the focus (the exercise just added, the library's new
    // page), so a keyboard user goes on where the change happened.
    document.body.addEventListener("htmx:afterSettle", function (event) {
      // The event fires on what was swapped in (its detail names the button that asked, gone by now).
      var root = event.target;
      var focus = root && root.matches && (root.matches("[autofocus]") ? root : root.querySelector("[autofocus]"));
      if (focus && document.contains(focus)) {
        focus.focus();
      }
    });
    // A filter swapped in another team's list: follow that team instead.
    document.body.addEventListener("htmx:afterSettle", connect);
  });
})();
