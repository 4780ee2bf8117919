// Flask-Admin's own templates wire some buttons with inline onclick handlers and javascript: links,
// which the Content-Security-Policy (no inline script) blocks. Our copies of those templates
// (templates/admin/model/*.html, templates/admin/actions.html) carry data- attributes instead, and
// this file gives them their behaviour.
(function ($) {
  // A javascript:void(0) link (dropdown toggles, the filter list, tooltips) must go nowhere: the
  // browser would otherwise try to run the URL and report a CSP violation.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest('a[href^="javascript:"]');
    if (link) { event.preventDefault(); }
  }, true);
  // The delete button of a list row: ask first.
  $(document).on("click", "[data-confirm]", function (event) {
    if (!window.faHelpers.safeConfirm(this.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  });
  // "Add <inline record>" under an inline list (the participants of an appointment).
  $(document).on("click", "[data-inline-add]", function (event) {
    event.preventDefault();
    window.faForm.addInlineField(this, this.getAttribute("data-inline-add"));
  });
  // The "With selected" actions of a list.
  $(document).on("click", "[data-model-action]", function (event) {
    event.preventDefault();
    window.modelActions.execute(this.getAttribute("data-model-action"));
  });
  // A form's pickers (Select2) look records up by what is typed, often a client's name: it goes in the
  // body of a POST, never in a URL that browser history and logs keep (views/platform/search.py).
  $.ajaxPrefilter(function (options, original, jqXHR) {
    if (options.type.toUpperCase() === "GET" && /\/ajax\/lookup\/(\?|$)/.test(options.url)) {
      options.type = "POST";
      var token = document.querySelector('meta[name="csrf-token"]');
      if (token) { jqXHR.setRequestHeader("X-CSRFToken", token.content); }
    }
  });
})(window.jQuery);
