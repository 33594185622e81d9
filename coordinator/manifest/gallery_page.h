#ifndef REELFARM_COORDINATOR_MANIFEST_GALLERY_PAGE_H_
#define REELFARM_COORDINATOR_MANIFEST_GALLERY_PAGE_H_

// The fixed parts of gallery.html. The page reads its data from the
// <script id="gallery-data"> JSON that gallery.cc writes between them and
// builds the grid with DOM calls: user text only ever lands in textContent,
// attributes set as properties, and URLs built from encoded path segments,
// never in innerHTML.

namespace reelfarm {

inline constexpr char kGalleryHead[] = R"page(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
)page";

inline constexpr char kGalleryStyle[] = R"page(<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #1d2430;
       background: #f4f5f7; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 20px;
         margin-bottom: 12px; }
h1 { font-size: 20px; margin: 0; }
.counts span { margin-right: 10px; }
.state-running { color: #b36b00; } .state-done { color: #1a7f37; }
.state-failed, .state-cancelled { color: #c62828; }
label { margin-right: 12px; }
table#grid { border-collapse: separate; border-spacing: 6px; }
th { font-weight: 600; text-align: left; vertical-align: middle;
     max-width: 220px; }
thead th { text-align: center; }
th .axis { display: block; font-weight: 400; color: #69707d; font-size: 12px; }
td.cell { background: #fff; border-radius: 6px; vertical-align: top;
          padding: 6px; box-shadow: 0 1px 2px rgba(0,0,0,.12); }
figure.job { margin: 0 0 4px 0; cursor: pointer; width: 160px; }
figure.job:last-child { margin-bottom: 0; }
.clip { width: 160px; height: auto; display: block; border-radius: 4px;
        background: #ddd; }
.clip.upscaled { image-rendering: pixelated; }
.placeholder { width: 160px; height: 90px; display: flex; align-items: center;
               justify-content: center; border-radius: 4px; color: #69707d;
               background: repeating-linear-gradient(45deg, #eceef1 0 8px,
               #e2e5e9 8px 16px); }
.error { width: 148px; min-height: 78px; padding: 6px; border-radius: 4px;
         background: #fdecea; color: #b71c1c; font-size: 12px;
         overflow-wrap: anywhere; }
figcaption { font-size: 12px; color: #4a5261; overflow-wrap: anywhere; }
figcaption .warn { color: #b36b00; }
aside#details { position: fixed; top: 0; right: 0; bottom: 0; width: 380px;
                overflow: auto; background: #fff; padding: 16px;
                box-shadow: -2px 0 8px rgba(0,0,0,.2); }
aside#details[hidden] { display: none; }
aside#details button { float: right; }
aside dl { display: grid; grid-template-columns: max-content 1fr;
           gap: 2px 10px; }
aside dt { color: #69707d; } aside dd { margin: 0; overflow-wrap: anywhere; }
aside .error { width: auto; min-height: 0; }
</style>
)page";

inline constexpr char kGalleryBody[] = R"page(<header>
<h1 id="title"></h1>
<div class="counts" id="counts"></div>
<div><label>rows <select id="rows"></select></label>
<label>columns <select id="columns"></select></label></div>
</header>
<noscript>This gallery is drawn by JavaScript; manifest.json lists the same
jobs and files.</noscript>
<table id="grid"></table>
<aside id="details" hidden></aside>
)page";

inline constexpr char kGalleryScript[] = R"page(<script>
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("gallery-data").textContent);
  const sweep = data.sweep, jobs = data.jobs;
  const order = ["prompt", "n_prompt", "seed", "W", "H", "L", "steps",
    "guidance_scale", "scheduler", "pretrained_model_path", "motion_module",
    "dreambooth_path", "inference_config", "lora_model_path", "lora_alpha"];

  function el(tag, props, children) {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    (children || []).forEach(c => e.append(c));
    return e;
  }
  // Output paths are relative to this file; each segment is encoded.
  function url(path) { return path.split("/").map(encodeURIComponent).join("/"); }

  // The values a field takes, in sweep order.
  function valuesOf(field) {
    const seen = new Map();
    jobs.forEach(j => {
      const v = j.values[field];
      if (v !== undefined && !seen.has(v)) seen.set(v, seen.size);
    });
    return seen;
  }
  const varying = order.filter(f => valuesOf(f).size > 1);

  function chosenAxes() {
    const hash = new URLSearchParams(location.hash.slice(1));
    let rows = hash.get("rows") || sweep.rows;
    let columns = hash.get("columns") || sweep.columns;
    if (!order.includes(rows)) rows = sweep.rows;
    if (!order.includes(columns) || columns === rows) columns = sweep.columns;
    return [rows, columns];
  }

  function paramsText(job) {
    return order.filter(f => job.values[f] !== undefined && job.values[f] !== "")
      .map(f => f + ": " + job.values[f]).join("\n");
  }

  function showDetails(job) {
    const aside = document.getElementById("details");
    aside.replaceChildren();
    const close = el("button", {type: "button", textContent: "close"});
    close.onclick = () => { aside.hidden = true; };
    const list = el("dl");
    list.append(el("dt", {textContent: "job"}), el("dd", {textContent: job.id}));
    list.append(el("dt", {textContent: "status"}),
                el("dd", {textContent: job.status}));
    order.forEach(f => {
      if (job.values[f] === undefined) return;
      list.append(el("dt", {textContent: f}),
                  el("dd", {textContent: job.values[f]}));
    });
    aside.append(close, el("h2", {textContent: "Parameters"}), list);
    if (job.error) aside.append(el("div", {className: "error", textContent: job.error}));
    (job.warnings || []).forEach(w =>
      aside.append(el("p", {className: "warn", textContent: "warning: " + w})));
    const files = job.files || {};
    const links = el("p");
    ["gif", "mp4", "frame"].forEach(k => {
      if (!files[k]) return;
      links.append(el("a", {href: url(files[k]), textContent: k}), " ");
    });
    aside.append(links);
    aside.hidden = false;
  }

  function media(job) {
    const files = job.files || {};
    const small = Number(job.values.W) < 160;
    if (files.gif) {
      return el("img", {className: "clip" + (small ? " upscaled" : ""),
                        src: url(files.gif), alt: job.values.prompt});
    }
    if (files.mp4) {
      const v = el("video", {className: "clip" + (small ? " upscaled" : ""),
                             src: url(files.mp4), autoplay: true, loop: true,
                             muted: true, playsInline: true});
      v.setAttribute("muted", "");
      return v;
    }
    if (files.frame) {
      return el("img", {className: "clip" + (small ? " upscaled" : ""),
                        src: url(files.frame), alt: job.values.prompt});
    }
    return el("div", {className: "placeholder", textContent: job.status});
  }

  function figure(job, others) {
    const fig = el("figure", {className: "job", title: paramsText(job) +
                              (job.error ? "\nerror: " + job.error : "")});
    fig.dataset.jobId = job.id;
    fig.dataset.status = job.status;
    fig.append(job.status === "failed"
      ? el("div", {className: "error", textContent: "failed: " + (job.error || "")})
      : media(job));
    const caption = others.map(f => f + "=" + job.values[f]).join(" \u00b7 ");
    const cap = el("figcaption", {textContent: caption});
    if (job.warnings) cap.append(el("span", {className: "warn", textContent: " \u26a0"}));
    if (caption || job.warnings) fig.append(cap);
    fig.onclick = () => showDetails(job);
    return fig;
  }

  function header(field, value) {
    return el("th", {scope: "col"}, [el("span", {className: "axis", textContent: field}),
                                     value]);
  }

  function draw() {
    const [rows, columns] = chosenAxes();
    ["rows", "columns"].forEach((id, i) => {
      const select = document.getElementById(id);
      const current = i === 0 ? rows : columns;
      select.replaceChildren(...order.filter(f => varying.includes(f) ||
          f === current).map(f => el("option", {value: f, textContent: f})));
      select.value = current;
    });
    const rowValues = [...valuesOf(rows).keys()];
    const colValues = [...valuesOf(columns).keys()];
    const others = varying.filter(f => f !== rows && f !== columns);
    const cells = new Map();
    jobs.forEach(j => {
      const key = j.values[rows] + "\u0000" + j.values[columns];
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push(j);
    });
    const table = document.getElementById("grid");
    table.replaceChildren();
    table.dataset.rows = rowValues.length;
    table.dataset.columns = colValues.length;
    const head = el("tr", {}, [el("th")]);
    colValues.forEach(v => head.append(header(columns, v)));
    table.append(el("thead", {}, [head]));
    const body = el("tbody");
    rowValues.forEach((rv, r) => {
      const tr = el("tr", {}, [el("th", {scope: "row"},
          [el("span", {className: "axis", textContent: rows}), rv])]);
      colValues.forEach((cv, c) => {
        const td = el("td", {className: "cell"});
        td.dataset.row = r;
        td.dataset.column = c;
        td.dataset.rowValue = rv;
        td.dataset.columnValue = cv;
        (cells.get(rv + "\u0000" + cv) || []).forEach(j => td.append(figure(j, others)));
        tr.append(td);
      });
      body.append(tr);
    });
    table.append(body);
    document.body.dataset.ready = "1";
  }

  document.getElementById("title").textContent = sweep.name;
  document.title = sweep.name + " - reelfarm gallery";
  const counts = document.getElementById("counts");
  counts.append(el("span", {className: "state-" + sweep.state,
                            textContent: sweep.state}));
  ["total", "done", "failed", "pending", "cancelled"].forEach(k => {
    if (k !== "total" && !sweep.counts[k]) return;
    counts.append(el("span", {textContent: sweep.counts[k] + " " + k}));
  });
  ["rows", "columns"].forEach(id => {
    document.getElementById(id).onchange = () => {
      const r = document.getElementById("rows").value;
      let c = document.getElementById("columns").value;
      if (c === r) c = varying.find(f => f !== r) || (r === "seed" ? "prompt" : "seed");
      location.hash = "rows=" + encodeURIComponent(r) + "&columns=" + encodeURIComponent(c);
    };
  });
  window.addEventListener("hashchange", draw);
  draw();
})();
</script>
)page";

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_MANIFEST_GALLERY_PAGE_H_
