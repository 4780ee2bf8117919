// The words of Flask-Admin's widgets (Select2 3.5, bootstrap-daterangepicker 1.3, moment 2.9) in the
// reader's language: the texts come from the page (#picker-locale, views/platform/pickers.py).
// Loaded after those libraries and before Flask-Admin's form script, which builds the widgets when the
// page is ready: the pickers are wrapped then, so every one gets the labels unless it names its own.
(function ($) {
  "use strict";
  var source = document.getElementById("picker-locale");
  if (!source || !$) { return; }
  var texts = JSON.parse(source.textContent);

  function counted(forms, n) { return (n === 1 ? forms[0] : forms[1]).replace("{n}", n); }

  if (window.moment) {
    window.moment.locale(texts.language, texts.moment);  // defines the locale and makes it current
  }
  if ($.fn.select2) {
    var words = texts.select2;
    $.extend($.fn.select2.defaults, {
      formatNoMatches: function () { return words.noMatches; },
      formatInputTooShort: function (input, min) { return counted(words.inputTooShort, min - input.length); },
      formatInputTooLong: function (input, max) { return counted(words.inputTooLong, input.length - max); },
      formatSelectionTooBig: function (limit) { return counted(words.selectionTooBig, limit); },
      formatLoadMore: function () { return words.loadMore; },
      formatSearching: function () { return words.searching; },
      formatAjaxError: function () { return words.ajaxError; }
    });
  }
  $(function () {
    var picker = $.fn.daterangepicker;
    if (!picker) { return; }
    $.fn.daterangepicker = function (options, callback) {
      var localised = $.extend(true, { locale: texts.daterangepicker }, options);
      return picker.call(this, localised, callback);
    };
  });
})(window.jQuery);
