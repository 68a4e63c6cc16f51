// /docs/lifecycle: each machine's diagram and table, fetched from marketplace through the
// gateway (GET /api/v1/{ofertas,trabajos}/lifecycle and its diagram), so the page shows
// the rules the service runs. Kept out of the page so it needs no inline script.
(function () {
  "use strict";

  function status(el, text, error) {
    var p = document.createElement("p");
    p.className = error ? "status error" : "status";
    p.textContent = text;
    el.replaceChildren(p);
  }

  function get(url, as) {
    return fetch(url, { headers: { Accept: as === "json" ? "application/json" : "image/svg+xml" } }).then(function (r) {
      if (!r.ok) {
        throw new Error(url + " answered " + r.status);
      }
      return as === "json" ? r.json() : r.text();
    });
  }

  // The SVG goes into the page itself (not an <img>) so its text can be searched and
  // selected; it is parsed as XML, which runs nothing.
  function showDiagram(el, text) {
    var doc = new DOMParser().parseFromString(text, "image/svg+xml");
    var root = doc.documentElement;
    if (root.nodeName !== "svg" || doc.getElementsByTagName("parsererror").length > 0) {
      throw new Error("the diagram is not an SVG document");
    }
    el.replaceChildren(document.importNode(root, true));
    el.removeAttribute("aria-busy");
  }

  function hours(seconds) {
    return seconds % 3600 === 0 ? seconds / 3600 + " h" : seconds + " s";
  }

  function cell(tr, parts) {
    var td = document.createElement("td");
    parts.forEach(function (p, i) {
      if (i > 0) {
        td.appendChild(document.createTextNode(" "));
      }
      if (typeof p === "string") {
        td.appendChild(document.createTextNode(p));
      } else {
        var code = document.createElement("code");
        code.textContent = p.code;
        td.appendChild(code);
      }
    });
    tr.appendChild(td);
  }

  function showTable(el, m) {
    var table = document.createElement("table");
    var head = table.createTHead().insertRow();
    ["move", "from", "to", "estado_escrow", "who", "fired by", "also"].forEach(function (h) {
      var th = document.createElement("th");
      th.textContent = h;
      head.appendChild(th);
    });
    var body = table.createTBody();
    m.moves.forEach(function (mv) {
      var tr = body.insertRow();
      tr.dataset.move = mv.move;
      cell(tr, [{ code: mv.move }]);
      cell(tr, [mv.creates ? "—" : mv.from.join(", ")]);
      cell(tr, [mv.to === "" ? "(igual)" : mv.to]);
      var money = mv.escrow_from.join(", ");
      if (mv.escrow_to) {
        money += " → " + mv.escrow_to;
      }
      cell(tr, [money.trim()]);
      cell(tr, [mv.roles.join(", ")]);
      var fired = [];
      if (mv.timer) {
        fired.push("⏱ " + hours(mv.timer.default_seconds) + " " + mv.timer.since, { code: mv.timer.setting });
        if (mv.timer.service) {
          fired.push("(" + mv.timer.service + ")");
        }
      }
      if (mv.trigger) {
        fired.push("⚡ " + mv.trigger);
      }
      cell(tr, fired);
      var also = mv.note;
      if (mv.before_expiry) {
        also = (also ? also + "; " : "") + "antes de expires_at";
      }
      cell(tr, [also]);
    });
    el.replaceChildren(table);
  }

  document.querySelectorAll("section.machine").forEach(function (section) {
    var diagram = section.querySelector(".diagram");
    var table = section.querySelector(".table");
    get(section.dataset.table, "json")
      .then(function (m) {
        showTable(table, m);
        return get(m.diagram, "svg").then(function (text) {
          showDiagram(diagram, text);
        });
      })
      .catch(function (err) {
        var text = "Could not load the lifecycle: " + err.message;
        if (!diagram.querySelector("svg")) {
          status(diagram, text, true);
        }
        if (!table.querySelector("table")) {
          status(table, text, true);
        }
      });
  });
})();
