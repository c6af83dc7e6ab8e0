// The upload page: several files (chosen or dropped), sent one after another with the
// same metadata, each with its own progress bar; the server's answer per file, then the
// inspection result (an htmx fragment that polls until the inspection job has run).
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) { return; }
  var msg = JSON.parse(document.getElementById("upload-messages").textContent);
  var input = document.getElementById("files");
  var zone = document.getElementById("dropzone");
  var list = document.getElementById("file-list");
  var results = document.getElementById("results");
  var resultList = document.getElementById("result-list");
  var button = document.getElementById("upload-button");
  var formMessage = document.getElementById("form-message");
  var maxBytes = parseInt(form.dataset.maxBytes, 10);
  var queue = [];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function sizeText(n) {
    if (n < 1024) { return n + " B"; }
    if (n < 1048576) { return (n / 1024).toFixed(1) + " KB"; }
    return (n / 1048576).toFixed(1) + " MB";
  }

  function addFiles(files) {
    Array.prototype.forEach.call(files, function (file) {
      var item = { file: file, li: el("li", { "class": "file" }) };
      var id = "f" + Math.random().toString(36).slice(2);
      item.li.appendChild(el("span", { "class": "name" }, file.name));
      item.li.appendChild(el("span", { "class": "muted" }, " " + sizeText(file.size) + " "));
      item.progress = el("progress", { max: "100", value: "0", id: id, "aria-label": file.name });
      item.li.appendChild(item.progress);
      item.state = el("span", { "class": "state", role: "status" }, msg.waiting);
      item.li.appendChild(item.state);
      item.remove = el("button", { type: "button", "class": "link" }, msg.remove);
      item.remove.setAttribute("aria-label", msg.remove + " " + file.name);
      item.remove.addEventListener("click", function () {
        queue.splice(queue.indexOf(item), 1);
        item.li.remove();
      });
      item.li.appendChild(item.remove);
      if (file.size > maxBytes) {
        item.state.textContent = msg.too_big;
        item.li.classList.add("failed");
      }
      list.appendChild(item.li);
      queue.push(item);
    });
  }

  input.addEventListener("change", function () { addFiles(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files) { addFiles(e.dataTransfer.files); }
  });

  function clearErrors() {
    formMessage.hidden = true;
    form.querySelectorAll(".error").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (f) { f.removeAttribute("aria-invalid"); });
  }

  function showFieldErrors(fields) {
    var first = null;
    fields.forEach(function (p) {
      var field = document.getElementById(p.field);
      var out = document.getElementById(p.field + "-error");
      if (field && out) {
        field.setAttribute("aria-invalid", "true");
        out.textContent = p.message;
        out.hidden = false;
        first = first || field;
      }
    });
    formMessage.textContent = msg.fix_fields;
    formMessage.hidden = false;
    (first || formMessage).focus();
  }

  function metadata() {
    var data = [];
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (f) {
      if (f.type === "checkbox" && !f.checked) { return; }
      if (f.value.trim() !== "") { data.push([f.name, f.value.trim()]); }
    });
    return data;
  }

  function showResult(item, answer) {
    results.hidden = false;
    var li = el("li", { "class": "result" });
    li.appendChild(el("h3", {}, item.file.name));
    var dl = el("dl", { "class": "facts" });
    dl.appendChild(el("dt", {}, msg.sha256));
    dl.appendChild(el("dd", { "class": "hash", "data-sha256": answer.sha256 }, answer.sha256));
    li.appendChild(dl);
    if (answer.duplicate) {
      li.appendChild(el("p", { "class": "notice duplicate" }, msg.duplicate));
    }
    var box = el("div", { "hx-get": answer.result_url, "hx-trigger": "load", "hx-swap": "outerHTML" });
    li.appendChild(box);
    var link = el("a", { href: answer.record_url }, msg.open);
    li.appendChild(el("p", {})).appendChild(link);
    resultList.appendChild(li);
    if (window.htmx) { window.htmx.process(li); }
  }

  function showFailure(item, text, existingUrl) {
    results.hidden = false;
    var li = el("li", { "class": "result failed" });
    li.appendChild(el("h3", {}, item.file.name));
    li.appendChild(el("p", { role: "alert" }, text));
    if (existingUrl) {   // a duplicate: the record that already holds these bytes
      li.appendChild(el("p", {})).appendChild(el("a", { href: existingUrl, "class": "existing" }, msg.existing));
    }
    resultList.appendChild(li);
  }

  function send(item, meta) {
    return new Promise(function (resolve) {
      var body = new FormData();
      meta.forEach(function (pair) { body.append(pair[0], pair[1]); });
      body.append("file", item.file, item.file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.endpoint);
      xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { item.progress.value = Math.round(100 * e.loaded / e.total); }
      });
      xhr.addEventListener("load", function () {
        if (xhr.responseURL && xhr.responseURL.indexOf("/login") !== -1) {
          window.location = "/login";   // the session has ended
          return;
        }
        var answer = null;
        try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = null; }
        if (xhr.status === 201 && answer && answer.ok) {
          item.progress.value = 100;
          item.state.textContent = msg.sent;
          item.li.classList.add("done");
          showResult(item, answer);
          resolve("ok");
        } else if (answer && answer.fields && answer.fields.length) {
          item.state.textContent = msg.failed;
          item.li.classList.add("failed");
          showFieldErrors(answer.fields);
          resolve("fields");
        } else {
          item.state.textContent = msg.failed;
          item.li.classList.add("failed");
          showFailure(item, (answer && answer.message) || ("HTTP " + xhr.status),
                      answer && answer.existing_url);
          resolve("failed");
        }
      });
      xhr.addEventListener("error", function () {
        item.state.textContent = msg.failed;
        showFailure(item, msg.network);
        resolve("failed");
      });
      item.state.textContent = msg.sending;
      item.remove.hidden = true;
      xhr.send(body);
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearErrors();
    var todo = queue.filter(function (q) { return !q.li.classList.contains("done") && q.file.size <= maxBytes; });
    if (!todo.length) {
      formMessage.textContent = msg.no_files;
      formMessage.hidden = false;
      input.focus();
      return;
    }
    var meta = metadata();
    button.disabled = true;
    var chain = Promise.resolve("ok");
    var stopped = false;
    todo.forEach(function (item) {
      item.li.classList.remove("failed");
      chain = chain.then(function () {
        if (stopped) { item.state.textContent = msg.not_sent; return "skipped"; }
        return send(item, meta).then(function (outcome) {
          if (outcome === "fields") { stopped = true; }
          return outcome;
        });
      });
    });
    chain.then(function () {
      button.disabled = false;
      queue = queue.filter(function (q) { return !q.li.classList.contains("done"); });
      document.body.dispatchEvent(new CustomEvent("uploaded", { bubbles: true }));
    });
  });
}());
