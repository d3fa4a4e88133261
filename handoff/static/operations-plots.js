// Draws an operations summary (handoff/operations_summary.py) into a page: the seed metrics against their targets,
// the counts and the plots. Used by the console's dashboard and by the HTML report (`make report`).
(function () {
  "use strict";
  const percent = (value) => `${(100 * value).toFixed(0)} %`;
  const seconds = (value) => (value >= 120 ? `${(value / 60).toFixed(0)} min`
    : `${value.toFixed(value < 10 && value % 1 ? 1 : 0)} s`);

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
  }

  // [data-plot name, summary key (its target: summary.targets[key]), caption]
  const FIGURES = [["queue-wait", "queue_wait", "Queue wait by language"],
    ["handoffs-by-reason", "handoffs_by_reason", "Handoffs by reason"], ["containment", "containment", "Bot containment"],
    ["csat", "csat_distribution", "CSAT distribution"],
    ["crisis-response", "crisis_first_response", "Crisis: time to first agent response"],
    ["compliance", "compliance_by_rule", "Compliance rate by rule"]];
  const TARGET = "Target (DOMAIN.md): ";

  function element(name, attributes, children) {
    const made = document.createElement(name);
    for (const [key, value] of Object.entries(attributes)) made.setAttribute(key, value);
    made.append(...(children || []));
    return made;
  }

  // The seed metrics table, the counts and one figure per plot, each with its DOMAIN.md target, once, in the root's
  // data-plot="layout".
  function layout(root, targets) {
    const place = root.querySelector('[data-plot="layout"]');
    if (place.childElementCount) return;
    const head = element("tr", {}, ["Metric", "Value", "Target (DOMAIN.md)", "Status", "Note"].map((title) => element("th", {}, [title])));
    place.append(
      element("h2", {}, ["Seed metrics against targets"]),
      element("table", {}, [element("thead", {}, [head]), element("tbody", {"data-plot": "seed-metrics"})]),
      element("h2", {}, ["Counts in this period"]),
      element("p", {class: "target", "data-target": "counts"}, [TARGET + targets.counts]),
      element("ul", {class: "counts", "data-plot": "counts"}),
      element("div", {class: "plots"}, FIGURES.map(([name, key, title]) =>
        element("figure", {"data-figure": name}, [element("figcaption", {}, [title]),
          element("p", {class: "target", "data-target": key}, [TARGET + targets[key]]),
          element("div", {"data-plot": name})]))));
  }

  function draw(summary, root) {
    layout(root, summary.targets);
    const find = (name) => root.querySelector(`[data-plot="${name}"]`);
    const day = summary.bucket_ms >= 86400000;
    const when = (ms) => {
      const date = new Date(ms);
      return day ? date.toISOString().slice(5, 10) : date.toISOString().slice(11, 16);
    };
    const table = find("seed-metrics");
    table.replaceChildren();
    for (const metric of summary.seed_metrics) {
      const row = document.createElement("tr");
      row.dataset.metric = metric.key;
      const status = metric.met === null ? "not measured" : metric.met ? "on target" : "off target";
      cell(row, metric.name);
      cell(row, metric.shown, "value");
      cell(row, metric.target);
      cell(row, status, metric.met === null ? "unknown" : metric.met ? "met" : "missed");
      cell(row, metric.note || "", "note");
      table.appendChild(row);
    }
    const counts = find("counts");
    counts.replaceChildren();
    for (const [name, value] of Object.entries(summary.counts)) {
      const item = document.createElement("li");
      item.dataset.count = name;
      item.textContent = `${name.replaceAll("_", " ")}: ${value}`;
      counts.appendChild(item);
    }
    const notMeasured = (what) => `not measured: no ${what} in this period`;
    Charts.line(find("queue-wait"), {
      title: "Queue wait by language (mean)", yFormat: seconds, xFormat: when, empty: notMeasured("claims"),
      targets: [{value: 60, label: "60 s"}],
      series: Object.entries(summary.queue_wait).map(([language, points]) => ({name: language, points})),
    });
    Charts.bars(find("handoffs-by-reason"), {title: "Handoffs by reason", bars: summary.handoffs_by_reason,
      empty: notMeasured("handoffs")});
    Charts.line(find("containment"), {
      title: "Bot containment", yMax: 1, yFormat: percent, xFormat: when, empty: notMeasured("conversations"),
      targets: [{value: 0.35, label: "35 %"}, {value: 0.5, label: "50 %"}],
      series: [{name: "contained", points: summary.containment}],
    });
    Charts.bars(find("csat"), {
      title: "CSAT answers by score", bars: summary.csat_distribution, empty: notMeasured("survey answers"),
    });
    Charts.line(find("crisis-response"), {
      title: "Crisis: time to first agent response", yFormat: seconds, xFormat: when,
      empty: notMeasured("agent answers to a crisis"), targets: [{value: 60, label: "60 s"}],
      series: [{name: "crisis", points: summary.crisis_first_response}],
    });
    Charts.bars(find("compliance"), {
      title: "Compliance rate by rule", yMax: 1, yFormat: percent, empty: notMeasured("transcript reviews"),
      targets: [{value: 1, label: "100 %"}],
      bars: summary.compliance_by_rule.map(([rule, rate]) => [rule, rate]),
    });
  }

  window.OperationsPlots = {draw};
})();
