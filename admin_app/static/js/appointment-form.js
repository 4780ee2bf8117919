// New appointment: once the first client is chosen, fill in what the user has not filled yet
// (their usual therapist, fee and currency; a room at the therapist's site when on-site) and
// offer the clients linked to them (partner, guardian...) as further participants.
(function ($) {
  "use strict";
  var form = document.querySelector("form.admin-form");
  var defaultsUrl = document.body.dataset.bookingDefaultsUrl;
  if (!form || !defaultsUrl) { return; }
  var defaults = null;

  function clientInputs() {
    return $(form).find('input[id^="participants-"][id$="-client"]').filter(function () {
      return this.id.indexOf("template") === -1 && $(this).closest(".inline-field-template").length === 0;
    });
  }

  function chooseRoom() {
    if (!defaults || $("#modality").val() !== "on_site" || ($("#room").val() && $("#room").val() !== "__None")) { return; }
    if (defaults.rooms.length) { $("#room").select2("val", String(defaults.rooms[0])); }
  }

  function addParticipant(linked) {
    faForm.addInlineField(document.getElementById("participants-button"), "participants");
    var added = clientInputs().last();
    added.select2("data", { id: linked.id, text: linked.text });
    var row = added.attr("id").replace(/-client$/, "");
    $("#" + row + "-fee").val($("#participants-0-fee").val());
    $("#" + row + "-currency").select2("val", $("#participants-0-currency").val());
  }

  function offerLinked() {
    var box = $("#linked-suggestions");
    if (!box.length) {
      box = $('<div id="linked-suggestions" class="mb-3"></div>').insertAfter("#participants-button");
    }
    box.empty();
    if (!defaults.linked.length) { return; }
    box.append($("<span class='mr-2'></span>").text(document.body.dataset.linkedLabel));
    defaults.linked.forEach(function (linked) {
      $('<button type="button" class="btn btn-outline-secondary btn-sm mr-2"></button>')
        .text("+ " + linked.text + " (" + linked.relation + ")")
        .on("click", function () { addParticipant(linked); $(this).remove(); })
        .appendTo(box);
    });
  }

  $(form).on("change", "#participants-0-client", function () {
    var clientId = $(this).val();
    if (!clientId) { return; }
    $.getJSON(defaultsUrl, { client: clientId }).done(function (found) {
      defaults = found;
      if (found.therapist && !$("#therapist").val()) { $("#therapist").select2("data", found.therapist); }
      if (!$("#participants-0-fee").val() && found.fee !== null) {
        // The fee and its currency come together: a currency select is never empty.
        $("#participants-0-fee").val(found.fee);
        $("#participants-0-currency").select2("val", found.currency);
      }
      chooseRoom();
      offerLinked();
    });
  });
  $(form).on("change", "#modality", chooseRoom);
})(window.jQuery);
