// A room select of an on-site booking (the appointment form, the new series) offers first the
// rooms the therapist has reserved at the form's time, then every other room in use, by site
// (services.rooms.choices.booking_rooms). The server orders it when the page is drawn; this
// script asks it again whenever the therapist, the start, the end or the duration change (typed
// ones once the typing pauses).
//
// The select says where to ask (data-rooms-url) and which fields hold the therapist, start, end,
// duration and modality (data-therapist, data-start, data-end, data-duration, data-modality: CSS
// selectors). The room chosen stays chosen; with none chosen (or only one this script or the
// appointment form filled in) and the booking on site, the first reserved room is taken.
(function ($) {
  "use strict";

  function offerRooms(select) {
    var asked = 0;  // the latest request: an answer to an older one is ignored

    function read(name) {
      var selector = select.attr("data-" + name);
      return selector ? ($(selector).val() || "") : "";
    }

    function chosen() {
      var value = select.val();
      return value && value !== "__None" ? value : "";
    }

    function show(rooms) {
      var current = chosen();
      var filledIn = !current || current === select.attr("data-auto");
      var blank = select.find("option").filter(function () { return !this.value || this.value === "__None"; }).first();
      select.find("option").not(blank).remove();
      rooms.forEach(function (room) {
        $("<option></option>").val(String(room.id)).text(room.text)
          .attr("data-reserved", room.reserved ? "true" : null).appendTo(select);
      });
      var value = current;
      if (filledIn && read("modality") === "on_site" && rooms.length && rooms[0].reserved) {
        value = String(rooms[0].id);
        select.attr("data-auto", value);
      }
      var known = rooms.some(function (room) { return String(room.id) === value; });
      value = known ? value : (blank.length ? blank.val() : "");
      if (select.data("select2")) { select.select2("val", value); } else { select.val(value); }
      select.trigger("rooms-offered");
    }

    function refresh() {
      var ticket = ++asked;
      var query = {
        therapist: read("therapist"),
        starts_at: read("start"),
        ends_at: read("end"),
        duration_minutes: read("duration"),
        selected: chosen()
      };
      $.getJSON(select.attr("data-rooms-url"), query).done(function (found) {
        if (ticket === asked) { show(found.rooms); }
      });
    }

    var watched = ["therapist", "start", "end", "duration", "modality"]
      .map(function (name) { return select.attr("data-" + name); })
      .filter(Boolean);
    $(watched.join(", ")).on("change", refresh);
    // A time typed (a text field changes only when left): asked again once the typing pauses.
    var typing = null;
    $(watched.join(", ")).on("input", function () {
      clearTimeout(typing);
      typing = setTimeout(refresh, 300);
    });
  }

  $(function () {  // after Flask-Admin has turned the selects into Select2 fields
    $("select[data-rooms-url]").each(function () { offerRooms($(this)); });
  });
})(window.jQuery);
