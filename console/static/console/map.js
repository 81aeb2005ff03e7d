// Maps of the console: a case's location, and the open complaints with clusters. Tiles only where a tile server is
// configured (CONSOLE_TILE_URL); without one the markers show on a blank background.
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }
  // The marker images by their collected names (hashed in production), as the page gives them.
  var icons = document.querySelector("[data-icon]");
  if (icons) {
    L.Icon.Default.imagePath = "";
    L.Icon.Default.mergeOptions({
      iconUrl: icons.dataset.icon, iconRetinaUrl: icons.dataset.iconRetina, shadowUrl: icons.dataset.shadow
    });
  }

  function baseMap(element) {
    var map = L.map(element, { maxZoom: 19 });  // the cluster plug-in needs it, tiles or not
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: element.dataset.attribution || "" }).addTo(map);
    }
    return map;
  }

  var single = document.getElementById("case-map");
  if (single) {
    var at = [parseFloat(single.dataset.lat), parseFloat(single.dataset.lon)];
    var map = baseMap(single).setView(at, 16);
    L.marker(at).addTo(map);
  }

  var many = document.getElementById("queue-map");
  if (many) {
    var queueMap = baseMap(many).setView([-2.5, 118], 5);
    var count = document.getElementById("map-count");
    fetch(many.dataset.points, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var layer = typeof L.markerClusterGroup === "function" ? L.markerClusterGroup() : L.featureGroup();
        data.points.forEach(function (point) {
          var marker = L.marker([point.lat, point.lon], { title: point.code });
          var link = document.createElement("a");
          link.href = point.url;
          link.textContent = point.code;
          link.className = "case-link";
          var box = document.createElement("div");
          box.appendChild(link);
          box.appendChild(document.createTextNode(" · " + point.status + " · " + point.slaLabel));
          marker.bindPopup(box);
          layer.addLayer(marker);
        });
        queueMap.addLayer(layer);
        if (data.points.length) { queueMap.fitBounds(layer.getBounds(), { maxZoom: 16, padding: [20, 20] }); }
        count.textContent = data.points.length + " " + count.dataset.label;
        many.dataset.loaded = String(data.points.length);
      });
  }
})();
