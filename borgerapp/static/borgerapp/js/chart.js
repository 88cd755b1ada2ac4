// A line chart drawn from the same data the table below it shows: title, description, markers on every
// point (not colour alone), and the numbers as a table for screen readers and for reading exactly.
import { h } from "./dom.js";

export function lineChart({ id, title, description, points, min, max, labelOf }) {
  const width = 320;
  const height = 160;
  const pad = { left: 32, right: 12, top: 12, bottom: 28 };
  const innerWidth = width - pad.left - pad.right;
  const innerHeight = height - pad.top - pad.bottom;
  const x = (index) => pad.left + (points.length < 2 ? innerWidth / 2 : (index * innerWidth) / (points.length - 1));
  const y = (value) => pad.top + innerHeight - ((value - min) * innerHeight) / (max - min);
  const grid = [];
  for (let value = min; value <= max; value += 1) {
    grid.push(h("line", { class: "app-chart-grid", x1: pad.left, x2: width - pad.right, y1: y(value), y2: y(value) }));
    grid.push(h("text", { class: "app-chart-axis", x: pad.left - 6, y: y(value) + 4, "text-anchor": "end" }, labelOf(value)));
  }
  const path = points.map((point, index) => `${x(index)},${y(point.value)}`).join(" ");
  return h("figure", { class: "app-chart" },
    h("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": `${id}-title ${id}-desc`, class: "app-chart-svg" },
      h("title", { id: `${id}-title` }, title),
      h("desc", { id: `${id}-desc` }, description),
      grid,
      points.length > 1 ? h("polyline", { class: "app-chart-line", points: path }) : null,
      points.map((point, index) => h("circle", { class: "app-chart-point", cx: x(index), cy: y(point.value), r: 5 })),
      points.length ? h("text", { class: "app-chart-axis", x: x(0), y: height - 8, "text-anchor": points.length < 2 ? "middle" : "start" }, points[0].label) : null,
      points.length > 1 ? h("text", { class: "app-chart-axis", x: x(points.length - 1), y: height - 8, "text-anchor": "end" }, points[points.length - 1].label) : null));
}

export function dataTable({ caption, headers, rows }) {
  return h("div", { class: "table--responsive-scroll" },
    h("table", { class: "table table--compact" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((header) => h("th", { scope: "col" }, header)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell) => h("td", {}, cell)))))));
}
