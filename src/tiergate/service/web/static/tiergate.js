// tiergate's pages: the tier map. No framework; the data comes from this server only.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

function element(tag, attributes = {}, text = null) {
  const made = tag === "svg" || tag === "path" || tag === "circle" || tag === "g"
    ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  if (text !== null) made.textContent = text;
  return made;
}

async function json(url) {
  const answer = await fetch(url, { credentials: "same-origin" });
  const body = await answer.json();
  if (!answer.ok) throw new Error(body.detail || answer.statusText);
  return body;
}

class TierMap {
  constructor(root) {
    this.root = root;
    this.svg = root.querySelector("#map-svg");
    this.date = root.querySelector("#map-date");
    this.slider = root.querySelector("#map-slider");
    this.item = root.querySelector("#map-item");
    this.play = root.querySelector("#map-play");
    this.status = root.querySelector("#map-status");
    this.panel = root.querySelector("#map-country");
    this.shapes = new Map();
    this.rows = new Map();
    this.changes = [];
    this.playing = null;
    this.asked = 0;
  }

  async start() {
    const world = await json("/static/world.json");
    this.svg.setAttribute("viewBox", `0 0 ${world.width} ${world.height}`);
    for (const [code, path] of Object.entries(world.shapes)) this.add(code, element("path", { d: path }));
    for (const [code, [x, y]] of Object.entries(world.dots)) this.add(code, element("circle", { cx: x, cy: y, r: 3 }));
    this.names = world.names;
    this.root.querySelector("#map-source").textContent = `Map: ${world.source}.`;
    this.date.addEventListener("change", () => this.show());
    this.item.addEventListener("change", () => this.show());
    for (const radio of this.root.querySelectorAll("input[name=view]")) radio.addEventListener("change", () => this.show());
    this.slider.addEventListener("input", () => {
      this.date.value = this.changes[Number(this.slider.value)];
      this.show();
    });
    this.play.addEventListener("click", () => this.toggle());
    await this.show();
  }

  add(code, shape) {
    shape.setAttribute("data-country", code);
    shape.setAttribute("class", "tier-none");
    shape.addEventListener("click", () => this.open(code));
    const title = element("title");
    shape.appendChild(title);
    this.svg.appendChild(shape);
    this.shapes.set(code, shape);
  }

  view() {
    return this.root.querySelector("input[name=view]:checked").value;
  }

  async show() {
    const asked = ++this.asked;
    const query = new URLSearchParams({ as_of: this.date.value, view: this.view() });
    if (this.item.value.trim()) query.set("item", this.item.value.trim());
    this.status.textContent = "Loading…";
    let found;
    try {
      found = await json(`/data/tiers?${query}`);
    } catch (error) {
      this.status.textContent = `Not shown: ${error.message}`;
      this.status.classList.add("error");
      return;
    }
    if (asked !== this.asked) return;  // a later date was asked for meanwhile
    this.status.classList.remove("error");
    this.rulesInForce = found.rules;
    this.rows = new Map(found.countries.map((row) => [row.country, row]));
    for (const [code, shape] of this.shapes) {
      const row = this.rows.get(code);
      shape.setAttribute("class", row ? `tier-${row.tier}` : "tier-none");
      shape.setAttribute("data-tier", row ? row.tier : "none");
      shape.firstChild.textContent = `${this.names[code] || code}: ${row ? row.tier : "not in the rulebook"}`;
    }
    this.changes = found.change_dates.filter((d) => d <= this.root.dataset.today);
    this.slider.max = String(Math.max(0, this.changes.length - 1));
    const at = this.changes.filter((d) => d <= found.as_of).length - 1;
    this.slider.value = String(Math.max(0, at));
    this.status.textContent = `${found.item} on ${found.as_of}, rules as ${found.view} (rulebook ${found.rulebook_version})`;
    this.root.dataset.shown = `${found.as_of}/${found.view}/${found.item}`;
    if (this.opened) this.open(this.opened);
  }

  open(code) {
    this.opened = code;
    const row = this.rows.get(code);
    this.panel.replaceChildren();
    this.panel.appendChild(element("h2", {}, `${this.names[code] || code} (${code})`));
    if (!row) {
      this.panel.appendChild(element("p", {}, "Not among the rulebook's countries: a line to it is INDETERMINATE."));
      return;
    }
    const facts = element("dl");
    const pairs = [["Tier", row.tier], ["Outcome", row.outcome], ["Licence exception", row.exception],
      ["Review policy", row.review_policy], ["Note", row.note]];
    for (const [name, value] of pairs) {
      if (value === null || value === undefined) continue;
      facts.appendChild(element("dt", {}, name));
      facts.appendChild(element("dd", { "data-fact": name.toLowerCase() }, String(value)));
    }
    this.panel.appendChild(facts);
    if (row.rules.length) {
      this.panel.appendChild(element("h3", {}, "Rules"));
      const list = element("ul", { class: "rules" });
      for (const id of row.rules) {
        const rule = this.rulesInForce[id];
        const item = element("li", {}, id);
        if (rule) {
          item.appendChild(element("cite", {}, rule.citation));
          if (rule.uncertain) item.appendChild(element("span", { class: "uncertain" }, "uncertain: see the rulebook"));
        }
        list.appendChild(item);
      }
      this.panel.appendChild(list);
    }
  }

  toggle() {
    if (this.playing) {
      clearInterval(this.playing);
      this.playing = null;
      this.play.textContent = "Play";
      return;
    }
    this.play.textContent = "Pause";
    let next = 0;
    this.playing = setInterval(() => {
      if (next >= this.changes.length) return this.toggle();
      this.date.value = this.changes[next++];
      this.show();
    }, 1200);
  }
}

// The results page: show only the lines with an outcome, or that contain a text.
function filterResults(table) {
  const outcome = document.getElementById("filter-outcome");
  const text = document.getElementById("filter-text");
  const shown = document.getElementById("filter-shown");
  const lines = [...table.querySelectorAll("tbody.line")];
  const apply = () => {
    const wanted = text.value.trim().toLowerCase();
    let count = 0;
    for (const line of lines) {
      const visible = (!outcome.value || line.dataset.outcome === outcome.value)
        && (!wanted || line.textContent.toLowerCase().includes(wanted));
      line.hidden = !visible;
      if (visible) count++;
    }
    shown.textContent = `${count} of ${lines.length} lines shown`;
  };
  outcome.addEventListener("change", apply);
  text.addEventListener("input", apply);
  document.getElementById("filter").addEventListener("submit", (event) => event.preventDefault());
  apply();
}

// The check page: a book is checked in the background (a job), its progress shown until its
// results are ready; one line typed into the form, and the report, go by the form itself.
function checkInTheBackground(form) {
  const file = form.querySelector("#book");
  const panel = document.getElementById("job");
  const bar = document.getElementById("job-progress");
  const stage = document.getElementById("job-stage");
  form.addEventListener("submit", async (event) => {
    if (!file.files.length || (event.submitter && event.submitter.value !== "results")) return;
    event.preventDefault();
    const sent = new FormData(form);
    panel.hidden = false;
    document.getElementById("job-name").textContent = file.files[0].name;
    stage.textContent = "Sending the book…";
    let answer = await fetch("/jobs", { method: "POST", body: sent, credentials: "same-origin" });
    let body = await answer.json();
    if (!answer.ok) {
      stage.textContent = `Not checked: ${body.detail}`;
      stage.classList.add("error");
      return;
    }
    const results = body.results_url;
    const state = body.state_url;
    for (;;) {
      answer = await fetch(state, { credentials: "same-origin" });
      body = await answer.json();
      if (!answer.ok || body.state === "failed") {
        stage.textContent = `Not checked: ${body.error || body.detail}`;
        stage.classList.add("error");
        return;
      }
      if (body.total) {
        bar.max = body.total;
        bar.value = body.done;
      }
      stage.textContent = body.total
        ? `${body.stage}: ${body.done.toLocaleString()} of ${body.total.toLocaleString()} lines`
        : body.stage;
      panel.dataset.state = body.state;
      if (body.state === "done") {
        window.location.assign(results);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("check-form");
  if (form) checkInTheBackground(form);
  const root = document.getElementById("tier-map");
  if (root) new TierMap(root).start();
  const results = document.getElementById("results");
  if (results) filterResults(results);
});
