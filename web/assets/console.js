// The console's one script (served from /assets/console.js; CSP allows nothing else). It uses the
// same /v1 API as every client, with the session cookie and the page's CSRF token.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var final = { loaded: true, failed: true, duplicate: true, reverted: true };

  var form = document.getElementById("upload-form");
  if (form) {
    var input = document.getElementById("file");
    var zone = document.getElementById("drop-zone");
    var bar = document.getElementById("upload-progress");
    var status = document.getElementById("upload-status");
    var say = function (text, id) {
      status.textContent = text;
      if (id) {
        var link = document.createElement("a");
        link.href = "/uploads/" + id;
        link.textContent = " " + form.dataset.view;
        status.appendChild(link);
      }
    };
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) { input.files = event.dataTransfer.files; }
    });
    // The finished upload at the top of the table below, as the page would list it on reload.
    // "YYYY-MM-DD HH:MM" in the feed time zone (the form's data-zone-offset), like the server's rows.
    var feedTime = function (iso) {
      var at = new Date(Date.parse(iso) + 60000 * Number(form.dataset.zoneOffset || 0));
      var two = function (n) { return (n < 10 ? "0" : "") + n; };
      return at.getUTCFullYear() + "-" + two(at.getUTCMonth() + 1) + "-" + two(at.getUTCDate()) + " " +
        two(at.getUTCHours()) + ":" + two(at.getUTCMinutes());
    };
    var listed = function (upload) {
      var body = document.querySelector("main table tbody");
      if (!body) { return; }
      var empty = body.querySelector("td[colspan]");
      if (empty) { empty.parentNode.remove(); }
      var row = document.createElement("tr");
      var kind = document.getElementById("kind");
      var cells = [null, kind.options[kind.selectedIndex].text, upload.file_name || "", upload.uploader || "",
                   feedTime(upload.received_at), null, upload.rows_loaded, upload.rows_rejected];
      cells.forEach(function (text, index) {
        var cell = document.createElement("td");
        if (index === 0) {
          var link = document.createElement("a");
          link.href = "/uploads/" + upload.id;
          link.textContent = upload.id;
          cell.appendChild(link);
        } else if (index === 5) {
          var badge = document.createElement("span");
          badge.className = "status " + upload.status;
          badge.textContent = form.dataset[upload.status] || upload.status;
          cell.appendChild(badge);
        } else {
          cell.textContent = text == null ? "—" : String(text);
          if (index > 5) { cell.className = "number"; }
        }
        row.appendChild(cell);
      });
      body.insertBefore(row, body.firstChild);
    };
    var follow = function (id) {
      var request = new XMLHttpRequest();
      request.open("GET", "/v1/uploads/" + id);
      request.onload = function () {
        var upload = {};
        try { upload = JSON.parse(request.responseText); } catch (e) { upload = {}; }
        if (final[upload.status]) {
          status.dataset.state = upload.status;
          var counts = upload.rows_loaded != null
            ? " · " + form.dataset.rows.replace("{loaded}", upload.rows_loaded).replace("{rejected}", upload.rows_rejected || 0)
            : "";
          say((form.dataset[upload.status] || upload.status) + counts + (upload.error ? " · " + upload.error : ""), id);
          listed(upload);
        } else {
          setTimeout(function () { follow(id); }, 1000);
        }
      };
      request.onerror = function () { setTimeout(function () { follow(id); }, 2000); };
      request.send();
    };
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!input.files.length) { return; }
      var body = new FormData();
      body.append("file", input.files[0], input.files[0].name);
      var request = new XMLHttpRequest();
      request.open("POST", "/v1/uploads?kind=" + encodeURIComponent(document.getElementById("kind").value));
      request.setRequestHeader("X-CSRF-Token", csrf);
      bar.hidden = false;
      bar.value = 0;
      status.dataset.state = "sending";
      say(form.dataset.sending);
      request.upload.onprogress = function (e) { if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); } };
      request.onload = function () {
        var answer = {};
        try { answer = JSON.parse(request.responseText); } catch (e) { answer = {}; }
        if (request.status === 202 || request.status === 200) {
          bar.value = 100;
          if (answer.status === "duplicate") {
            status.dataset.state = "duplicate";
            say(form.dataset.duplicate, answer.duplicate_of || answer.id);
          } else {
            status.dataset.state = "queued";
            say(form.dataset.queued, answer.id);
            follow(answer.id);
          }
        } else {
          status.dataset.state = "error";
          say(form.dataset.error + (answer.detail ? ": " + answer.detail : ""));
        }
      };
      request.onerror = function () { status.dataset.state = "error"; say(form.dataset.error); };
      request.send(body);
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.ack"), function (ack) {
    ack.addEventListener("submit", function (event) {
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", "/v1/alerts/" + ack.dataset.alert + "/ack");
      request.setRequestHeader("X-CSRF-Token", csrf);
      request.setRequestHeader("Content-Type", "application/json");
      request.onload = function () { window.location.reload(); };
      request.send(JSON.stringify({ note: ack.elements.note.value || null }));
    });
  });
  // Revert (admins): the button asks, a second button confirms, then the page shows the result.
  Array.prototype.forEach.call(document.querySelectorAll("form.revert"), function (form) {
    var confirm = form.querySelector(".confirm");
    var error = form.querySelector(".error");
    form.querySelector(".ask").addEventListener("click", function () { confirm.hidden = false; form.querySelector(".yes").focus(); });
    form.querySelector(".no").addEventListener("click", function () { confirm.hidden = true; });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", "/v1/uploads/" + form.dataset.upload + "/revert");
      request.setRequestHeader("X-CSRF-Token", csrf);
      request.onload = function () {
        if (request.status === 200) { window.location.reload(); return; }
        var detail = "";
        try { detail = JSON.parse(request.responseText).detail || ""; } catch (e) { detail = String(request.status); }
        error.textContent = detail; error.hidden = false;
      };
      request.onerror = function () { error.textContent = String(request.status); error.hidden = false; };
      request.send();
    });
  });
  // Silences (admins): add one from the form, end one with its button.
  var silence = document.getElementById("silence-form");
  if (silence) {
    silence.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = silence.querySelector(".error");
      var matchers = silence.elements.matchers.value.split("\n").map(function (line) { return line.trim(); })
        .filter(function (line) { return line.length > 0; });
      var request = new XMLHttpRequest();
      request.open("POST", "/v1/silences");
      request.setRequestHeader("X-CSRF-Token", csrf);
      request.setRequestHeader("Content-Type", "application/json");
      request.onload = function () {
        if (request.status === 201) { window.location.reload(); return; }
        var detail = String(request.status);
        try { detail = JSON.parse(request.responseText).detail || detail; } catch (e) { /* not JSON */ }
        error.textContent = detail; error.hidden = false;
      };
      request.send(JSON.stringify({ matchers: matchers, duration: silence.elements.duration.value, reason: silence.elements.reason.value }));
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("button.expire"), function (button) {
    button.addEventListener("click", function () {
      var request = new XMLHttpRequest();
      request.open("POST", "/v1/silences/" + button.dataset.silence + "/expire");
      request.setRequestHeader("X-CSRF-Token", csrf);
      request.onload = function () { window.location.reload(); };
      request.send();
    });
  });
})();
