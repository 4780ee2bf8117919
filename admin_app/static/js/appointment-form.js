// New appointment: once the first client is chosen, fill in what the user has not filled yet
// (their usual therapist, fee and currency; when on-site, a room the therapist has reserved then,
// else one at the therapist's site) and
// offer the clients linked to them (partner, guardian...) as chips: a click adds that client as a
// participant, a second click takes them out again.
//
// Whenever the participants or the therapist change, the server says what the session is
// (booking-defaults: the kind the clients' links make, and each participant's share of the one
// fee), and the form shows it before anything is saved. Only what this script filled in is ever
// replaced: a fee typed by hand, or a couple, family or group chosen by hand, stays as it is.
// (An "individual" kind with several clients is not a choice: the server saves the kind their
// links make, so the form shows that.)
//
// Each participant is billed, until the staff choose otherwise, as the client's active payment
// source says (a payer, or the client), and for a payer the form shows the authorization the
// booking will use and what is left after it, or the warning that it goes beyond what is approved
// (refused, for a payer that refuses) or that none covers the date.
//
// As the therapist, the time, the room or the participants change, the server also says what the
// save would refuse the booking for (booking-clashes: the same therapist, room or client already
// booked then), in the words the save would use, before anything is saved.
//
// The form is laid out for the keyboard (templates/admin/appointment_create.html): it opens on
// the first client's search; a further participant added but left without a client is dropped
// when the form is sent, so "Add a participant" pressed by mistake never stops a booking.
(function ($) {
  "use strict";
  var form = document.querySelector("form.admin-form");
  var defaultsUrl = document.body.dataset.bookingDefaultsUrl;
  var clashesUrl = document.body.dataset.bookingClashesUrl;
  if (!form || !defaultsUrl) { return; }
  var defaults = null;
  var asked = 0;  // the latest request: an answer to an older one is ignored
  var askedClashes = 0;

  // Typing a time asks once it pauses, not at every key.
  function later(action) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(action, 300);
    };
  }

  function clientInputs() {
    return $(form).find('input[id^="participants-"][id$="-client"]').filter(function () {
      return this.id.indexOf("template") === -1 && $(this).closest(".inline-field-template").length === 0;
    });
  }

  // The participants whose client is chosen, in the form's order.
  function participants() {
    var rows = [];
    clientInputs().each(function () {
      if ($(this).val()) { rows.push({ client: String($(this).val()), row: this.id.replace(/-client$/, "") }); }
    });
    return rows;
  }

  // Who a row is billed to, as the server reads it: "" until the staff choose (the client's
  // payment source decides), then "client" or the payer's id.
  function bill(row) {
    var billedTo = $("#" + row.row + "-billed_to");
    if (!billedTo.attr("data-typed")) { return ""; }
    var payer = $("#" + row.row + "-payer").val();
    return billedTo.val() === "payer" && /^\d+$/.test(payer || "") ? payer : "client";
  }

  function fillBill(row, found) {
    var billedTo = $("#" + row.row + "-billed_to");
    if (!found || !billedTo.length || billedTo.attr("data-typed")) { return; }
    billedTo.select2("val", found.payer ? "payer" : "client");
    $("#" + row.row + "-payer").select2("val", found.payer ? String(found.payer.id) : "__None");
  }

  function showAuthorizations(found) {
    var box = $("#authorization-preview").empty();
    (found.participants || []).forEach(function (participant) {
      var authorization = participant.authorization;
      if (!authorization) { return; }
      $('<p class="mb-1"></p>')
        .addClass(authorization.warning ? "text-danger font-weight-bold" : "text-body")
        .attr("data-refused", authorization.refused ? "true" : "false")
        .text((authorization.warning ? "⚠ " : "") + authorization.text)
        .appendTo(box);
    });
  }

  // A value this script filled in (or nothing yet) may be replaced; one the user typed may not.
  function filledIn(field) {
    return !field.val() || field.val() === field.attr("data-auto");
  }

  function fill(field, value) {
    field.val(value).attr("data-auto", value);
  }

  // A room the therapist has reserved then (room-choices.js lists those first), else one of their
  // site's; never over a room chosen by hand.
  function chooseRoom() {
    var room = $("#room");
    var current = room.val() && room.val() !== "__None" ? room.val() : "";
    if (!defaults || $("#modality").val() !== "on_site" || (current && current !== room.attr("data-auto"))) { return; }
    var pick = room.find("option[data-reserved]").first().val() ||
      (current || (defaults.rooms.length ? String(defaults.rooms[0]) : ""));
    if (pick) { room.select2("val", pick); room.attr("data-auto", pick); }
  }

  // A further participant's row still without a client (added and not filled in yet).
  function emptyRows() {
    return clientInputs().filter(function () { return !$(this).val() && this.id !== "participants-0-client"; });
  }

  function addParticipant(linked) {
    if (!emptyRows().length) {
      faForm.addInlineField(document.getElementById("participants-button"), "participants");
    }
    emptyRows().first().select2("data", { id: linked.id, text: linked.text });
  }

  function removeParticipant(linked) {
    clientInputs().filter(function () {
      return String($(this).val()) === String(linked.id) && this.id !== "participants-0-client";
    }).closest(".participant-row").remove();
  }

  function offerLinked(rows) {
    var box = $("#linked-suggestions").empty();
    if (!defaults || !defaults.linked.length) { return; }
    var taken = rows.map(function (row) { return row.client; });
    box.append($("<span class='mr-2'></span>").text(document.body.dataset.linkedLabel));
    defaults.linked.forEach(function (linked) {
      var joined = taken.indexOf(String(linked.id)) !== -1;
      $('<button type="button" class="btn btn-sm mr-2"></button>')
        .addClass(joined ? "btn-secondary" : "btn-outline-secondary")
        .attr("aria-pressed", joined ? "true" : "false")
        .text((joined ? "✓ " : "+ ") + linked.text + " (" + linked.relation + ")")
        .on("click", function () {
          var present = participants().some(function (row) { return row.client === String(linked.id); });
          if (present) { removeParticipant(linked); } else { addParticipant(linked); }
          offerLinked(participants());
          refresh();
        })
        .appendTo(box);
    });
  }

  function show(found, rows) {
    defaults = found;
    if (found.therapist && !$("#therapist").val()) { $("#therapist").select2("data", found.therapist); }
    rows.forEach(function (row, position) {
      var fee = $("#" + row.row + "-fee");
      if (found.fees[position] !== undefined && fee.length && filledIn(fee)) {
        // The fee and its currency come together: a currency select is never empty.
        fill(fee, found.fees[position]);
        $("#" + row.row + "-currency").select2("val", found.currency);
      }
    });
    var kind = $("#kind");
    if (kind.val() === "individual" || kind.val() === kind.attr("data-auto")) {
      kind.select2("val", found.kind);
      kind.attr("data-auto", found.kind);
    }
    rows.forEach(function (row, position) { fillBill(row, (found.participants || [])[position]); });
    chooseRoom();
    offerLinked(rows);
    $("#fee-split").text(found.split || "");
    showAuthorizations(found);
  }

  function refresh() {
    var rows = participants();
    var ticket = ++asked;
    if (!rows.length) {
      defaults = null;
      offerLinked(rows);
      $("#fee-split").text("");
      $("#authorization-preview").empty();
      return;
    }
    var query = {
      client: rows[0].client,
      "with": rows.slice(1).map(function (row) { return row.client; }),
      bill: rows.map(bill),
      starts_at: $("#starts_at").val() || ""
    };
    if (/^\d+$/.test($("#therapist").val() || "")) { query.therapist = $("#therapist").val(); }
    $.getJSON(defaultsUrl, $.param(query, true)).done(function (found) {
      if (ticket === asked) { show(found, rows); }
    });
  }

  function showClashes(messages) {
    var box = $("#clash-messages").empty();
    messages.forEach(function (message) {
      $('<p class="mb-1 text-danger font-weight-bold"></p>').text("⚠ " + message).appendTo(box);
    });
  }

  function checkClashes() {
    if (!clashesUrl) { return; }
    var ticket = ++askedClashes;
    var rows = participants();
    var query = {
      therapist: $("#therapist").val() || "",
      starts_at: $("#starts_at").val() || "",
      ends_at: $("#ends_at").val() || "",
      duration_minutes: $("#duration_minutes").val() || "",
      modality: $("#modality").val() || "",
      room: $("#room").val() || "",
      status: $("#status").val() || "",
      client: rows.map(function (row) { return row.client; }),
      attendance: rows.map(function (row) { return $("#" + row.row + "-attendance").val() || ""; })
    };
    $.getJSON(clashesUrl, $.param(query, true)).done(function (found) {
      if (ticket === askedClashes) { showClashes(found.messages); }
    });
  }

  // A row added by Flask-Admin's script keeps its template's label targets ("client"): point them
  // at the row's own fields, so each label names its field.
  function labelRow(row) {
    $(row).find("label[for]").each(function () {
      var target = this.getAttribute("for");
      if (!document.getElementById(target) && document.getElementById(row.id + "-" + target)) {
        this.setAttribute("for", row.id + "-" + target);
      }
    });
  }

  $(function () {  // after Flask-Admin has turned the selects into Select2 fields
    var typedTime = later(function () { refresh(); checkClashes(); });
    $(form).on("change", 'input[id^="participants-"][id$="-client"]', function () { refresh(); checkClashes(); });
    $(form).on("change", "#therapist, #kind, #starts_at", refresh);
    $(form).on("change", '#therapist, #starts_at, #ends_at, #duration_minutes, #modality, #room, #status, ' +
      'select[id^="participants-"][id$="-attendance"]', checkClashes);
    $(form).on("input", "#starts_at, #ends_at, #duration_minutes", typedTime);
    // A further participant added without a client is not sent (nothing to book for them).
    $(form).on("submit", function () { emptyRows().closest(".participant-row").remove(); });
    // Bill-to or payer chosen by hand: kept as chosen, and the preview follows it.
    $(form).on("change", 'select[id^="participants-"][id$="-billed_to"], select[id^="participants-"][id$="-payer"]',
      function () {
        $("#" + this.id.replace(/-(billed_to|payer)$/, "-billed_to")).attr("data-typed", "1");
        refresh();
      });
    $(form).on("change", "#modality", chooseRoom);
    $("#room").on("rooms-offered", chooseRoom);  // room-choices.js has listed the rooms anew
    // A participant's row taken out with its own remove button: the others' shares change.
    var list = $("#participants-button").closest(".inline-field").children(".inline-field-list")[0];
    if (list) {
      new MutationObserver(function (changes) {
        changes.forEach(function (change) {
          $(change.addedNodes).filter(".participant-row").each(function () { labelRow(this); });
        });
        if (changes.some(function (change) { return change.removedNodes.length; })) { refresh(); checkClashes(); }
      }).observe(list, { childList: true });
    }
    if (participants().length) { refresh(); }  // a client chosen already (from their page)
    checkClashes();  // a slot of the book may be taken meanwhile
    // Client first: the form opens on the first client's search (unless one is chosen already).
    if (!$("#participants-0-client").val()) { $("#participants-0-client").select2("focus"); }
  });
})(window.jQuery);
