// leakscope html: draws the page from the data leakscope embedded in it
// (window.LEAKSCOPE). No network: d3 and d3-flame-graph are inlined above.
(function () {
  'use strict';
  const data = window.LEAKSCOPE;

  function thousands(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }
  function human(bytes) {
    if (bytes < 1024) return bytes + ' B';
    const units = ['KiB', 'MiB', 'GiB', 'TiB'];
    let v = bytes / 1024, u = 0;
    while (v >= 1023.95 && u + 1 < units.length) { v /= 1024; ++u; }
    return v.toFixed(1) + ' ' + units[u];
  }
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function renderSummary() {
    const table = document.getElementById('summary');
    for (const [label, value] of data.summary) {
      const lost = label === 'Integrity' && data.integrity && !data.integrity.nothing_lost;
      const tr = el('tr', lost ? {class: 'warning'} : {});
      tr.appendChild(el('td', {}, label));
      tr.appendChild(el('td', {}, value));
      table.appendChild(tr);
    }
  }

  // The flame graph: outermost frames at the bottom, width = live bytes.
  function renderFlame() {
    const factory = window.flamegraph.flamegraph || window.flamegraph.default || window.flamegraph;
    const chart = factory()
      .width(document.getElementById('flame').clientWidth || 1200)
      .cellHeight(18)
      .minFrameSize(1)
      .transitionDuration(0)
      .selfValue(false)
      .setDetailsElement(document.getElementById('flame-details'))
      .label(d => d.data.name + ' (' + human(d.value) + ', ' + thousands(d.value) + ' bytes)');
    d3.select('#flame').datum(data.flame).call(chart);
    const search = document.getElementById('flame-search');
    search.addEventListener('input', () => {
      if (search.value === '') chart.clear(); else chart.search(search.value);
    });
    document.getElementById('flame-reset').addEventListener('click', () => chart.resetZoom());
  }

  function renderTimeline() {
    const points = data.timeline;
    const box = document.getElementById('timeline');
    if (points.length < 2) {
      box.appendChild(el('p', {class: 'empty'}, 'No timeline in this report.'));
      return;
    }
    const width = Math.max(600, box.clientWidth || 1000), height = 220, m = 50;
    const x = d3.scaleLinear().domain(d3.extent(points, p => p.t)).range([m, width - 10]);
    const y = d3.scaleLinear().domain([0, d3.max(points, p => Math.max(p.live, p.rss))])
      .nice().range([height - 30, 10]);
    const svg = d3.select(box).append('svg').attr('width', width).attr('height', height);
    svg.append('g').attr('transform', `translate(0,${height - 30})`)
      .call(d3.axisBottom(x).ticks(8).tickFormat(s => s + ' s'));
    svg.append('g').attr('transform', `translate(${m},0)`)
      .call(d3.axisLeft(y).ticks(5).tickFormat(human));
    for (const [key, color] of [['live', '#d62728'], ['rss', '#1f77b4']]) {
      svg.append('path').datum(points).attr('fill', 'none').attr('stroke', color)
        .attr('stroke-width', 1.5).attr('d', d3.line().x(p => x(p.t)).y(p => y(p[key])));
    }
  }

  // A sortable table: click a header to sort by it, again to reverse.
  function renderTable(section) {
    const box = document.getElementById(section.id);
    if (section.note) {
      box.appendChild(el('p', {class: 'empty'}, section.note));
      return;
    }
    if (section.rows.length === 0) {
      box.appendChild(el('p', {class: 'empty'}, 'None.'));
      return;
    }
    const table = el('table', {class: 'sites'});
    const head = el('tr');
    section.columns.forEach((c, i) => {
      const th = el('th', {}, c.title);
      th.addEventListener('click', () => sortBy(i));
      head.appendChild(th);
    });
    table.appendChild(head);
    const body = el('tbody');
    table.appendChild(body);
    box.appendChild(table);
    let rows = section.rows.slice(), sorted = -1, descending = true;
    function draw() {
      body.textContent = '';
      for (const row of rows) {
        const tr = el('tr');
        section.columns.forEach((c, i) => {
          const v = row[i];
          tr.appendChild(c.bytes ? el('td', {class: 'num', title: thousands(v) + ' bytes'}, human(v))
            : c.count ? el('td', {class: 'num'}, thousands(v))
            : el('td', {class: c.where ? 'where' : ''}, v));
        });
        body.appendChild(tr);
      }
      head.querySelectorAll('th').forEach((th, i) => {
        th.className = i === sorted ? (descending ? 'sorted-desc' : 'sorted-asc') : '';
      });
    }
    function sortBy(i) {
      descending = sorted === i ? !descending : true;
      sorted = i;
      rows.sort((a, b) => (a[i] < b[i] ? -1 : a[i] > b[i] ? 1 : 0) * (descending ? -1 : 1));
      draw();
    }
    draw();
  }

  renderSummary();
  renderFlame();
  renderTimeline();
  data.tables.forEach(renderTable);
  document.body.setAttribute('data-ready', 'true');
})();
