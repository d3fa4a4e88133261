// A small SVG chart drawer for the operations dashboard and report: line charts over time and bar charts.
// No dependency, no network: Charts.line(element, options) and Charts.bars(element, options) replace the
// element's content with an <svg>. Values are numbers; labels are text (set with textContent, never as HTML).
// options.targets: [{value, label}] draws each target as a dashed line across the plot.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const COLOURS = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7ea4", "#57606a"];
  const WIDTH = 560, HEIGHT = 220, LEFT = 48, RIGHT = 12, TOP = 12, BOTTOM = 40;

  function node(name, attributes, text) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, String(value));
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function frame(element, title) {
    const svg = node("svg", {viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": title, class: "chart"});
    svg.appendChild(node("title", {}, title));
    element.replaceChildren(svg);
    return svg;
  }

  function niceMax(value) {
    if (!(value > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
    return 10 * power;
  }

  function yAxis(svg, max, format) {
    const plotHeight = HEIGHT - TOP - BOTTOM;
    for (let index = 0; index <= 4; index++) {
      const y = TOP + plotHeight - (plotHeight * index) / 4;
      svg.appendChild(node("line", {x1: LEFT, x2: WIDTH - RIGHT, y1: y, y2: y, stroke: "#d0d7de", "stroke-width": 1}));
      svg.appendChild(node("text", {x: LEFT - 6, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "#57606a"},
        format((max * index) / 4)));
    }
  }

  function targetLines(svg, targets, yMax) {
    const plotHeight = HEIGHT - TOP - BOTTOM;
    for (const target of targets || []) {
      const y = TOP + plotHeight - (Math.min(target.value, yMax) * plotHeight) / yMax;
      svg.appendChild(node("line", {x1: LEFT, x2: WIDTH - RIGHT, y1: y, y2: y, stroke: "#24292f", "stroke-width": 1.5,
        "stroke-dasharray": "6 4", class: "target"}));
      svg.appendChild(node("text", {x: WIDTH - RIGHT - 4, y: y - 4, "text-anchor": "end", "font-size": 11,
        fill: "#24292f", class: "target-label"}, target.label));
    }
  }

  function highest(values, options) {
    return options.yMax || niceMax(Math.max(...values, ...(options.targets || []).map((target) => target.value)));
  }

  function empty(svg, message) {
    svg.appendChild(node("text", {x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle", "font-size": 13,
      fill: "#57606a", class: "chart-empty"}, message || "not measured: no events in this period"));
  }

  // options: {title, series: [{name, points: [[x, y], ...]}], xFormat(x), yFormat(y), yMax, targets, empty}
  function line(element, options) {
    const svg = frame(element, options.title);
    const points = options.series.flatMap((series) => series.points);
    if (!points.length) return empty(svg, options.empty);
    const xs = points.map((point) => point[0]);
    const xMin = Math.min(...xs), xMax = Math.max(...xs);
    const yMax = highest(points.map((point) => point[1]), options);
    const yFormat = options.yFormat || String;
    const xFormat = options.xFormat || String;
    yAxis(svg, yMax, yFormat);
    targetLines(svg, options.targets, yMax);
    const plotWidth = WIDTH - LEFT - RIGHT, plotHeight = HEIGHT - TOP - BOTTOM;
    const x = (value) => LEFT + (xMax === xMin ? plotWidth / 2 : ((value - xMin) * plotWidth) / (xMax - xMin));
    const y = (value) => TOP + plotHeight - (Math.min(value, yMax) * plotHeight) / yMax;
    for (const value of [...new Set([xMin, xMax])]) {
      svg.appendChild(node("text", {x: x(value), y: HEIGHT - BOTTOM + 16, "text-anchor": "middle", "font-size": 11,
        fill: "#57606a"}, xFormat(value)));
    }
    options.series.forEach((series, index) => {
      const colour = COLOURS[index % COLOURS.length];
      const path = series.points.map((point, at) => `${at ? "L" : "M"}${x(point[0]).toFixed(1)},${y(point[1]).toFixed(1)}`);
      svg.appendChild(node("path", {d: path.join(" "), fill: "none", stroke: colour, "stroke-width": 2, class: "series"}));
      for (const point of series.points) {
        const dot = node("circle", {cx: x(point[0]), cy: y(point[1]), r: 3, fill: colour, class: "point"});
        dot.appendChild(node("title", {}, `${series.name}: ${yFormat(point[1])} (${xFormat(point[0])})`));
        svg.appendChild(dot);
      }
      svg.appendChild(node("text", {x: LEFT + 8 + index * 90, y: HEIGHT - 6, "font-size": 11, fill: colour,
        class: "legend"}, series.name));
    });
  }

  // options: {title, bars: [[label, value], ...], yFormat(y), yMax, targets, empty}
  function bars(element, options) {
    const svg = frame(element, options.title);
    if (!options.bars.length || options.bars.every((bar) => !bar[1])) return empty(svg, options.empty);
    const yMax = highest(options.bars.map((bar) => bar[1]), options);
    const yFormat = options.yFormat || String;
    yAxis(svg, yMax, yFormat);
    const plotWidth = WIDTH - LEFT - RIGHT, plotHeight = HEIGHT - TOP - BOTTOM;
    const slot = plotWidth / options.bars.length;
    options.bars.forEach(([label, value], index) => {
      const height = (Math.min(value, yMax) * plotHeight) / yMax;
      const bar = node("rect", {x: LEFT + index * slot + slot * 0.15, y: TOP + plotHeight - height,
        width: slot * 0.7, height: Math.max(height, 0), fill: COLOURS[index % COLOURS.length], class: "bar"});
      bar.appendChild(node("title", {}, `${label}: ${yFormat(value)}`));
      svg.appendChild(bar);
      const shown = label.length > 14 ? label.slice(0, 13) + "…" : label;
      svg.appendChild(node("text", {x: LEFT + index * slot + slot / 2, y: HEIGHT - BOTTOM + 16, "text-anchor": "middle",
        "font-size": 10, fill: "#24292f", class: "bar-label"}, shown));
    });
    targetLines(svg, options.targets, yMax);
  }

  window.Charts = {line, bars};
})();
