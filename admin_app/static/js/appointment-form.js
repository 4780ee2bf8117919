// New appointment: when the first client is chosen, fill in their usual therapist, fee and
// currency (only the fields the user has not filled yet).
(function ($) {
  "use strict";
  var form = document.querySelector("form.admin-form");
  var defaultsUrl = document.body.dataset.bookingDefaultsUrl;
  if (!form || !defaultsUrl) { return; }

  function fillIfEmpty(selector, value) {
    var field = $(selector);
    if (field.length && !field.val() && value !== null) { field.val(value); }
  }

  $(form).on("change", "#participants-0-client", function () {
    var clientId = $(this).val();
    if (!clientId) { return; }
    $.getJSON(defaultsUrl, { client: clientId }).done(function (defaults) {
      if (defaults.therapist && !$("#therapist").val()) {
        $("#therapist").select2("data", defaults.therapist);
      }
      fillIfEmpty("#participants-0-fee", defaults.fee);
      fillIfEmpty("#participants-0-currency", defaults.currency);
    });
  });
})(window.jQuery);
