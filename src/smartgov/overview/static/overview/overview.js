// The leaders' screen: renders the snapshot (tiles, trends, rolling alerts) and follows the SSE stream.
(function () {
  const root = document.getElementById('overview');
  if (!root) return;
  const en = document.documentElement.lang === 'en';
  const t = JSON.parse(document.getElementById('overview-labels').textContent);
  const charts = {};
  function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function change(ind) {
    if (ind.yesterday == null || ind.value == null) return null;
    const d = ind.value - ind.yesterday;
    return (d > 0 ? '▲ ' : d < 0 ? '▼ ' : '＝ ') + Math.abs(d) + ' ' + t.vs_yesterday;
  }
  const KIND_COLOURS = {'Grain depot': '#b45309', 'Vaccination site': '#2563eb', 'Service hall': '#7c3aed', 'Park': '#059669', 'Vehicle': '#0891b2'};
  const geo = JSON.parse(document.getElementById('overview-geo').textContent);
  let map = null;
  const esc = (x) => String(x == null ? '' : x).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
  function renderMap(m) {
    const box = document.getElementById('overview-map');
    if (!box || !window.echarts || !geo.features.length) return;
    if (!map) { echarts.registerMap('smartgov-regions', geo); map = echarts.init(box, root.dataset.theme === 'dark' ? 'dark' : null); }
    const dark = root.dataset.theme === 'dark';
    const kinds = {};
    for (const p of m.markers) (kinds[p.kind_en] = kinds[p.kind_en] || {name: en ? p.kind_en : p.kind, items: []}).items.push(p);
    const series = Object.entries(kinds).map(([k, g]) => ({
      name: g.name, type: 'scatter', coordinateSystem: 'geo', symbol: k === 'Vehicle' ? 'triangle' : 'circle',
      symbolSize: (v) => v[2] === 'alert' ? 18 : 12,
      itemStyle: {color: KIND_COLOURS[k] || '#6b7280', borderColor: '#fff', borderWidth: 1},
      data: g.items.map(p => ({name: p.name, value: [p.longitude, p.latitude, p.status], marker: p,
        itemStyle: p.status === 'alert' ? {color: '#dc2626', borderColor: '#fde047', borderWidth: 2} : undefined}))}));
    map.setOption({backgroundColor: 'transparent',
      tooltip: {trigger: 'item', formatter: (q) => q.data && q.data.marker ? [q.data.marker.kind + ' · ' + q.data.marker.name, q.data.marker.status_label, q.data.marker.department_name].map(esc).join('<br>') : esc(q.name)},
      legend: {bottom: 0, textStyle: {color: dark ? '#e5e7eb' : '#374151'}},
      geo: {map: 'smartgov-regions', roam: true, nameProperty: 'name', label: {show: true, color: dark ? '#cbd5e1' : '#374151'},
        itemStyle: {areaColor: dark ? '#13264a' : '#eef2f7', borderColor: dark ? '#3b82f6' : '#94a3b8'},
        emphasis: {itemStyle: {areaColor: dark ? '#1e3a8a' : '#dbeafe'}}},
      series: series}, {replaceMerge: ['series']});
    map.off('click');
    map.on('click', (q) => { if (q.data && q.data.marker && q.data.marker.url) window.location.href = q.data.marker.url; });
    box.dataset.markers = String(m.markers.length);
  }
  function render(data) {
    const tiles = document.getElementById('overview-tiles'), trends = document.getElementById('overview-trends');
    tiles.replaceChildren(); trends.replaceChildren();
    for (const group of data.apps) {
      for (const ind of group.indicators) {
        const tile = el(ind.url ? 'a' : 'div', 'ov-tile');
        if (ind.url) tile.href = ind.url;
        tile.dataset.key = ind.key;
        tile.append(el('div', 'ov-app', group.name), el('div', 'ov-name', en ? ind.name_en : ind.name));
        if (ind.status) tile.classList.add('ov-status-' + ind.status);
        // a status (the audit chain verifies or not) is shown as its words; a figure as its number and unit
        const shown = ind.text ? (en ? ind.text_en || ind.text : ind.text) : (ind.value == null ? '—' : String(ind.value));
        const v = el('div', 'ov-value', shown);
        if (!ind.text) v.append(el('span', 'ov-unit', ind.unit));
        tile.append(v);
        const c = change(ind); if (c) tile.append(el('div', 'ov-change', c));
        if (ind.note) tile.append(el('div', 'ov-change', en ? ind.note_en || ind.note : ind.note));
        if (ind.breakdown && ind.breakdown.length) {
          tile.append(el('div', 'ov-breakdown', ind.breakdown.slice(0, 4).map(b => (en && b.name_en ? b.name_en : b.name) + ' ' + b.value).join(' · ')));
        }
        tiles.append(tile);
        if (ind.series && window.echarts) {
          const box = el('div', 'ov-chart'); box.append(el('div', 'ov-name', en ? ind.name_en : ind.name));
          const area = el('div', 'ov-chart-area'); box.append(area); trends.append(box);
          const chart = echarts.init(area, root.dataset.theme === 'dark' ? 'dark' : null);
          chart.setOption({backgroundColor: 'transparent', grid: {left: 36, right: 10, top: 10, bottom: 24},
            tooltip: {trigger: 'axis'}, xAxis: {type: 'category', data: ind.series.map(p => p[0].slice(5))},
            yAxis: {type: 'value', minInterval: 1}, series: [{type: 'line', smooth: true, areaStyle: {}, data: ind.series.map(p => p[1])}]});
          charts[ind.key] = chart;
        }
      }
    }
    const list = document.getElementById('overview-alerts'); list.replaceChildren();
    if (!data.alerts.length) list.append(el('li', 'empty', t.no_alerts));
    for (const a of data.alerts) {
      const li = el('li', 'ov-alert ov-' + a.level); li.dataset.key = a.key;
      li.append(el('span', 'ov-kind', en ? a.kind_en : a.kind), ' ');
      const link = el('a', null, a.title); link.href = a.url; li.append(link);
      li.append(el('span', 'ov-dept', a.department_name + ' · ' + (a.at || '').slice(0, 16).replace('T', ' ')));
      const b = el('button', 'link', t.acknowledge); b.type = 'button';
      b.addEventListener('click', () => acknowledge(a.key, li)); li.append(b);
      list.append(li);
    }
    if (data.map) renderMap(data.map);
    document.getElementById('overview-at').textContent = data.at.slice(0, 19).replace('T', ' ');
  }
  function acknowledge(key, li) {
    const body = new URLSearchParams({key: key, csrfmiddlewaretoken: root.dataset.csrf});
    fetch(root.dataset.ackUrl, {method: 'POST', body: body, headers: {'Accept': 'application/json'}, credentials: 'same-origin'})
      .then(r => { if (r.ok) li.remove(); });
  }
  render(JSON.parse(document.getElementById('overview-data').textContent));
  window.addEventListener('resize', () => { Object.values(charts).forEach(c => c.resize()); if (map) map.resize(); });
  if (window.EventSource) {
    const src = new EventSource(root.dataset.streamUrl);
    src.addEventListener('snapshot', (e) => { Object.values(charts).forEach(c => c.dispose()); render(JSON.parse(e.data)); root.dataset.live = 'on'; });
    src.onerror = () => { root.dataset.live = 'reconnecting'; };
  }
})();
