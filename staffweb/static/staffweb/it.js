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
