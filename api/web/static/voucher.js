// The voucher page: a drop zone per missing role. A file dropped (or chosen) there is
// uploaded straight into the voucher in that role (the upload page's endpoint, with
// disbursement_id and role), then the page reloads to show the checklist and findings.
(function () {
  "use strict";
  var msgNode = document.getElementById("voucher-messages");
  if (!msgNode) { return; }
  var msg = JSON.parse(msgNode.textContent);

  function roleOf(form) {
    var field = form.querySelector("[name=role]");
    var docType = field.tagName === "SELECT"
      ? field.options[field.selectedIndex].getAttribute("data-doc-type")
      : field.getAttribute("data-doc-type");
    return { role: field.value, docType: docType || "other" };
  }

  function send(form, file) {
    var state = form.querySelector(".state");
    if (file.size > parseInt(form.dataset.maxBytes, 10)) {
      state.textContent = msg.too_big;
      return;
    }
    var which = roleOf(form);
    var body = new FormData();
    body.append("org_code", form.dataset.org);
    body.append("doc_type", which.docType);
    body.append("fiscal_year", form.dataset.fiscalYear);
    body.append("disbursement_id", form.dataset.voucher);
    body.append("role", which.role);
    body.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.endpoint);
    xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.addEventListener("load", function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = null; }
      if (xhr.status === 201 && answer && answer.ok) {
        state.textContent = msg.sent;
        form.classList.add("done");
        window.location.reload();
      } else {
        form.classList.add("failed");
        state.textContent = msg.failed + ": " + ((answer && answer.message) || ("HTTP " + xhr.status));
        if (answer && answer.fields) {
          answer.fields.forEach(function (p) { state.textContent += " · " + p.label + ": " + p.message; });
        }
      }
    });
    state.textContent = msg.sending;
    xhr.send(body);
  }

  document.querySelectorAll("form.role-drop").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    input.addEventListener("change", function () {
      if (input.files.length) { send(form, input.files[0]); }
    });
    ["dragenter", "dragover"].forEach(function (type) {
      form.addEventListener(type, function (e) { e.preventDefault(); form.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      form.addEventListener(type, function (e) { e.preventDefault(); form.classList.remove("over"); });
    });
    form.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files.length) {
        send(form, e.dataTransfer.files[0]);
      }
    });
  });
}());
