// Live updates of a console page over the API's WebSocket (graphql-transport-ws, the subscriptions at /graphql):
// the queue marks the cases that changed and offers to reload; a case page says when the case changed since it was
// shown, before anyone acts on a stale page. The page works the same without it (reload by hand).
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box || !window.WebSocket || !window.fetch) { return; }
  var subscriptions = JSON.parse(box.dataset.subscriptions);
  var url = box.dataset.url || (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";
  var shownVersion = box.dataset.version ? parseInt(box.dataset.version, 10) : null;
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  var state = box.querySelector("[data-state]");
  var news = box.querySelector("[data-news]");
  var seen = {};
  var changed = [];
  var last = null;
  var delay = 1000;
  var ended = false;

  function show(name) { state.textContent = box.dataset["text" + name]; box.dataset.live = name.toLowerCase(); }

  function retry() {
    if (ended) { return; }
    show("Offline");
    setTimeout(connect, delay + Math.random() * 500);
    delay = Math.min(delay * 2, 30000);
  }

  // A fresh access token for every connection: it expires, and the server closes the socket when it does (4403).
  function token() {
    return fetch(box.dataset.tokenUrl, {
      method: "POST", credentials: "same-origin", redirect: "manual", headers: {"X-CSRFToken": csrf ? csrf.value : ""}
    }).then(function (response) {
      // Signed out (here, everywhere, or by a password change): sent to the sign-in page, or refused.
      if (response.type === "opaqueredirect" || response.status === 403) {
        ended = true;
        show("Ended");
        throw new Error("session ended");
      }
      if (!response.ok) { throw new Error("token " + response.status); }
      return response.json();
    });
  }

  function changedCase(update) {
    var item = update.case;
    if (shownVersion !== null) {  // a case page: one case
      if (item.version > shownVersion) {
        news.textContent = box.dataset.textCaseChanged.replace("%s", item.statusLabel);
        box.querySelector("[data-reload]").hidden = false;
      }
      return;
    }
    if (changed.indexOf(item.trackingCode) < 0) { changed.push(item.trackingCode); }
    document.querySelectorAll("tr[data-code='" + item.trackingCode + "']").forEach(function (row) {
      row.classList.add("changed");
    });
    news.textContent = box.dataset.textQueueChanged.replace("%s", changed.length) + " " + changed.slice(-5).join(", ");
    box.querySelector("[data-reload]").hidden = false;
  }

  function connect() {
    token().then(function (credentials) {
      var socket = new WebSocket(url, "graphql-transport-ws");
      socket.onopen = function () {
        socket.send(JSON.stringify({type: "connection_init", payload: {
          authorization: "Bearer " + credentials.token, language: document.documentElement.lang, lastNotificationId: last
        }}));
      };
      socket.onmessage = function (message) {
        var data = JSON.parse(message.data);
        if (data.type === "connection_ack") {
          delay = 1000;
          show("Live");
          subscriptions.forEach(function (payload, index) {
            socket.send(JSON.stringify({id: String(index), type: "subscribe", payload: payload}));
          });
        } else if (data.type === "ping") {
          socket.send(JSON.stringify({type: "pong"}));
        } else if (data.type === "next" && data.payload && data.payload.data) {
          var fields = data.payload.data;
          Object.keys(fields).forEach(function (name) {
            var update = fields[name];
            if (!update || seen[update.notificationId]) { return; }  // at least once: a repeat is dropped
            seen[update.notificationId] = true;
            last = update.notificationId;
            changedCase(update);
          });
        }
      };
      socket.onclose = retry;
    }).catch(retry);
  }

  box.querySelector("[data-reload]").addEventListener("click", function () { location.reload(); });
  box.hidden = false;
  connect();
})();
