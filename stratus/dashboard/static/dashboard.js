// The few behaviours htmx does not give: the launch dialog, auto-submitting the project switcher,
// confirming deletes, and the upload progress bar. No inline scripts, no network fetches of our own.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "dialog-body") {
      var dialog = document.getElementById("dialog");
      if (!dialog.open) dialog.showModal();
    }
  });
  document.addEventListener("click", function (event) {
    if (event.target.matches("[data-close-dialog]")) {
      var dialog = event.target.closest("dialog");
      if (dialog) dialog.close(); else history.back();
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-upload")) uploadWithProgress(event, form);
  });

  function uploadWithProgress(event, form) {
    event.preventDefault();
    var box = form.querySelector(".progress");
    var bar = box.querySelector("progress");
    var label = box.querySelector("[data-progress-label]");
    var xhr = new XMLHttpRequest();
    box.hidden = false;
    form.querySelector("button[type=submit]").disabled = true;
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.round((e.loaded / e.total) * 100);
      bar.value = percent;
      label.textContent = percent + "% sent";
    });
    xhr.upload.addEventListener("load", function () {
      bar.value = 100;
      label.textContent = "Sent; the image service is saving it…";
    });
    xhr.addEventListener("load", function () {
      var target = xhr.getResponseHeader("HX-Redirect");
      if (target) {
        window.location.assign(target);  // the result is flashed on the page we go to
      } else {  // an error page: show it as the browser would have
        document.open();
        document.write(xhr.responseText);
        document.close();
      }
    });
    xhr.addEventListener("error", function () {
      label.textContent = "The upload failed: the connection was lost.";
      form.querySelector("button[type=submit]").disabled = false;
    });
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRF-Token", form.elements.csrf_token.value);
    xhr.setRequestHeader("HX-Request", "true");  // answer with HX-Redirect rather than a redirect to follow
    xhr.send(new FormData(form));
  }
})();
