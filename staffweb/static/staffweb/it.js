// IT's device page: the copy button beside a newly issued device key (shown only where the clipboard works).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    if (!navigator.clipboard) {
      return;
    }
    button.hidden = false;
    var status = button.parentElement.querySelector("[data-copy-status]");
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy-target"));
      navigator.clipboard.writeText(source.textContent.trim()).then(
        function () { if (status) { status.textContent = "Nøglen er kopieret."; } },
        function () { if (status) { status.textContent = "Kopiering lykkedes ikke. Markér nøglen og kopiér den selv."; } }
      );
    });
  });
});

// IT's import page: a file over the upload limit is refused before it is sent, with the server's own words
// (the input's data-too-large), beside the field; the server refuses it as well.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    var form = input.form;
    var limit = parseInt(input.getAttribute("data-max-bytes"), 10);
    form.addEventListener("submit", function (event) {
      var file = input.files && input.files[0];
      var group = input.closest(".form-group");
      var shown = group.querySelector("[data-size-error]");
      if (!file || file.size <= limit) {
        if (shown) { shown.remove(); }
        return;
      }
      event.preventDefault();
      if (!shown) {
        shown = document.createElement("span");
        shown.className = "form-error-message";
        shown.id = input.id + "-size-error";
        shown.setAttribute("data-size-error", "");
        shown.setAttribute("role", "alert");
        input.parentNode.insertBefore(shown, input);
        input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + shown.id).trim());
      }
      shown.textContent = input.getAttribute("data-too-large");
      group.classList.add("form-error");
      input.focus();
    });
  });
});
