/* Behaviour that pages used to write inline (onchange=, onsubmit=): the Content-Security-Policy allows no
   inline script without a nonce, so it lives here and is switched on by data attributes. */
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
});
document.addEventListener("submit", function (event) {
  var form = event.target, question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
