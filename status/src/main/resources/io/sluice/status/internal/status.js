// The Sluice status page: polls /api/v1/status every refreshMs (the batch interval, at most once a
// second) and draws it. No framework; charts by uPlot, served from the jar.
(function () {
  'use strict';
  var q = document.body.dataset.query || '';
  var charts = {};
  var renders = 0;
  var refreshMs = 1000;
  var COLORS = { records: '#2f6fde', rate: '#1f9d55', schedulingDelayMs: '#c98a12',
                 processingTimeMs: '#7a4fd6', totalDelayMs: '#d64545' };

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function ms(v) {
    if (v === null || v === undefined) { return '–'; }
    return v < 1000 ? v + ' ms' : (v / 1000).toFixed(2) + ' s';
  }
  function num(v) { return v === null || v === undefined ? '–' : Number(v).toLocaleString('en-US'); }
  function secs(iso) { return Date.parse(iso) / 1000; }
  function clock(iso) { return iso ? new Date(iso).toISOString().substring(11, 23) : '–'; }

  function draw(div, label, color, xs, ys) {
    var u = charts[div.id];
    var data = [xs, ys];
    if (!u) {
      var width = Math.max(300, div.clientWidth || 360);
      u = new uPlot({
        width: width, height: 160, legend: { show: false },
        scales: { x: { time: true },
                  y: { range: function (self, min, max) { return [0, max > 0 ? max * 1.15 : 1]; } } },
        series: [{}, { label: label, stroke: color, fill: color + '1f', width: 2,
                       points: { show: true, size: 4 } }],
        axes: [{ stroke: '#6b7385', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#e3e6ec' }, space: 90,
                 values: function (self, splits) {
                   return splits.map(function (v) { return new Date(v * 1000).toISOString().substring(11, 19); });
                 } },
               { stroke: '#6b7385', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#e3e6ec' }, size: 56 }]
      }, data, div);
      charts[div.id] = u;
    } else {
      u.setData(data);
    }
    div.setAttribute('data-points', String(xs.length));
  }

  function renderHeader(app) {
    var state = $('state');
    state.textContent = app.state.toLowerCase();
    state.className = 'badge ' + app.state.toLowerCase();
    $('interval').textContent = ms(app.batchIntervalMs);
    $('completed').textContent = num(app.batchesCompleted);
    $('failed').textContent = num(app.batchesFailed);
    $('last-committed').textContent = app.lastCompletedBatchId < 0 ? '–' : app.lastCompletedBatchId;
    $('updated').textContent = clock(app.serverTime);
    refreshMs = Math.max(1000, app.refreshMs || 1000);
  }

  function renderDelays(batches) {
    var done = batches.filter(function (b) { return b.state === 'completed'; }).reverse();
    var xs = done.map(function (b) { return secs(b.batchTime); });
    document.querySelectorAll('#delays .chart').forEach(function (div) {
      var key = div.dataset.series;
      draw(div, key, COLORS[key], xs, done.map(function (b) { return b[key]; }));
    });
  }

  function streamSection(s, index) {
    var id = 'stream-' + index;
    var sec = $(id);
    if (sec) { return sec; }
    sec = el('section', { id: id, 'class': 'stream', 'data-stream': s.name });
    var h = el('h2', {}, 'Input stream ' + s.name);
    h.appendChild(el('span', { 'class': 'sub' }));
    sec.appendChild(h);
    var chartsDiv = el('div', { 'class': 'charts' });
    [['records', 'Records per batch'], ['rate', 'Input rate (records/s)']].forEach(function (c) {
      var fig = el('figure');
      fig.appendChild(el('figcaption', {}, c[1]));
      fig.appendChild(el('div', { 'class': 'chart', id: id + '-' + c[0], 'data-series': c[0] }));
      chartsDiv.appendChild(fig);
    });
    sec.appendChild(chartsDiv);
    var table = el('table', { 'class': 'grid lag-table', id: id + '-partitions' });
    var head = el('tr');
    ['Topic', 'Partition', 'Committed offset', 'Lag'].forEach(function (t, i) {
      head.appendChild(el('th', i > 0 ? { 'class': 'num' } : {}, t));
    });
    var thead = el('thead'); thead.appendChild(head); table.appendChild(thead);
    table.appendChild(el('tbody'));
    var h3 = el('h2', { style: 'margin-top:14px' }, 'Partitions');
    sec.appendChild(h3);
    sec.appendChild(table);
    $('streams').appendChild(sec);
    return sec;
  }

  function renderStreams(streams) {
    streams.forEach(function (s, i) {
      var sec = streamSection(s, i);
      sec.querySelector('h2 .sub').textContent =
        'last committed batch ' + (s.lastCommittedBatchId === null ? '–' : s.lastCommittedBatchId);
      var xs = s.batches.map(function (b) { return secs(b.batchTime); });
      draw($('stream-' + i + '-records'), 'records', COLORS.records, xs,
           s.batches.map(function (b) { return b.records; }));
      draw($('stream-' + i + '-rate'), 'records/s', COLORS.rate, xs,
           s.batches.map(function (b) { return b.inputRate; }));
      var tbody = sec.querySelector('tbody');
      tbody.replaceChildren();
      if (s.partitions.length === 0) {
        var tr0 = el('tr');
        tr0.appendChild(el('td', { colspan: '4', 'class': 'muted' }, 'no per-partition offsets for this input'));
        tbody.appendChild(tr0);
      }
      s.partitions.forEach(function (p) {
        var tr = el('tr', { 'data-topic': p.topic, 'data-partition': String(p.partition) });
        tr.appendChild(el('td', {}, p.topic));
        tr.appendChild(el('td', { 'class': 'num' }, p.partition));
        tr.appendChild(el('td', { 'class': 'num committed' }, num(p.committedOffset)));
        tr.appendChild(el('td', { 'class': 'num lag' }, num(p.lag)));
        tbody.appendChild(tr);
      });
    });
  }

  function renderBatches(batches) {
    var tbody = $('batches').querySelector('tbody');
    tbody.replaceChildren();
    batches.slice(0, 15).forEach(function (b) {
      var tr = el('tr', { 'class': b.state, 'data-batch': String(b.batchId) });
      tr.appendChild(el('td', {}, b.batchId));
      tr.appendChild(el('td', {}, clock(b.batchTime)));
      var st = el('td'); st.appendChild(el('span', { 'class': 'badge ' + b.state }, b.state)); tr.appendChild(st);
      tr.appendChild(el('td', { 'class': 'num' }, num(b.records)));
      tr.appendChild(el('td', { 'class': 'num' }, ms(b.schedulingDelayMs)));
      tr.appendChild(el('td', { 'class': 'num' }, ms(b.processingTimeMs)));
      tr.appendChild(el('td', { 'class': 'num' }, ms(b.totalDelayMs)));
      // an output's failure usually is the batch's failure: show each message once
      var failure = [b.failure].concat((b.failedOutputs || []).filter(function (o) {
        return !b.failure || b.failure.indexOf(o.substring(o.indexOf(': ') + 2)) < 0;
      })).filter(Boolean).join(' · ');
      tr.appendChild(el('td', { 'class': 'failure' }, failure));
      tbody.appendChild(tr);
    });
  }

  function renderErrors(errors) {
    $('errors-section').hidden = errors.length === 0;
    var ul = $('errors');
    ul.replaceChildren();
    errors.forEach(function (e) { ul.appendChild(el('li', {}, clock(e.time) + ' ' + e.message)); });
  }

  function emptyRow(tbody, columns, text) {
    var tr = el('tr');
    tr.appendChild(el('td', { colspan: String(columns), 'class': 'muted' }, text));
    tbody.appendChild(tr);
  }

  function renderReceivers(receivers) {
    var tbody = $('receivers').querySelector('tbody');
    tbody.replaceChildren();
    if (receivers.length === 0) { emptyRow(tbody, 9, 'no receiver streams'); }
    receivers.forEach(function (r) {
      var tr = el('tr', { 'data-receiver': r.stream });
      tr.appendChild(el('td', {}, r.stream));
      tr.appendChild(el('td', {}, r.receiver));
      var st = el('td'); st.appendChild(el('span', { 'class': 'badge ' + r.state }, r.state)); tr.appendChild(st);
      tr.appendChild(el('td', { 'class': 'num records' }, num(r.records)));
      tr.appendChild(el('td', { 'class': 'num rate' }, Number(r.recordsPerSecond).toFixed(1)));
      tr.appendChild(el('td', { 'class': 'num blocks' }, num(r.blocks)));
      tr.appendChild(el('td', { 'class': 'num restarts' }, num(r.restarts)));
      tr.appendChild(el('td', { 'class': 'num errors' }, num(r.errors)));
      tr.appendChild(el('td', { 'class': 'failure last-error' },
                        r.lastError ? clock(r.lastErrorTime) + ' ' + r.lastError : ''));
      tbody.appendChild(tr);
    });
  }

  function renderStateOperators(operators) {
    var tbody = $('state-operators').querySelector('tbody');
    tbody.replaceChildren();
    if (operators.length === 0) { emptyRow(tbody, 3, 'no state operators'); }
    operators.forEach(function (op) {
      var tr = el('tr', { 'data-operator': op.name });
      tr.appendChild(el('td', {}, op.name));
      tr.appendChild(el('td', { 'class': 'num partitions' }, num(op.partitions)));
      tr.appendChild(el('td', { 'class': 'num keys' }, num(op.keys)));
      tbody.appendChild(tr);
    });
  }

  function render(s) {
    renderHeader(s.app);
    renderDelays(s.batches);
    renderStreams(s.streams);
    renderBatches(s.batches);
    renderErrors(s.errors);
    renderReceivers(s.receivers);
    renderStateOperators(s.stateOperators);
    renders++;
    document.body.setAttribute('data-renders', String(renders));
    document.body.setAttribute('data-ready', 'true');
  }

  function refresh() {
    fetch('api/v1/status' + q + (q ? '&' : '?') + 'limit=60', { cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(render)
      .catch(function (e) { $('updated').textContent = 'unreachable (' + e.message + ')'; })
      .then(function () { setTimeout(refresh, refreshMs); });
  }

  refresh();
})();
