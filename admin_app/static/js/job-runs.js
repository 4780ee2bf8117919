// A run's page (templates/admin/job_runs/run.html): ask how far the run is every second and move
// the bar; once the run has ended, reload the page, which shows the result and its links.
(function () {
  var box = document.getElementById("job-run");
  if (!box || box.getAttribute("data-finished") === "true") { return; }
  var bar = document.getElementById("job-run-bar");
  var percent = document.getElementById("job-run-bar-percent");
  var status = document.getElementById("job-run-status");
  var url = box.getAttribute("data-state-url");

  function show(state) {
    bar.style.width = state.percent + "%";
    bar.setAttribute("aria-valuenow", String(state.percent));
    percent.textContent = state.percent + " %";
    status.textContent = state.status;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state) { show(state); }
        if (state && state.finished) {
          window.setTimeout(function () { window.location.reload(); }, 300);
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }

  window.setTimeout(poll, 1000);
})();
