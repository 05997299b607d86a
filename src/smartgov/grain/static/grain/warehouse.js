/* 仓房温度场: one heatmap per layer (hot spots and faulty points marked), a cross-section, trends. */
(function () {
  var f = JSON.parse(document.getElementById("field-data").textContent);
  if (!f.scan) return;
  var w = f.warehouse, s = f.scan;
  var COLORS = ["#313695", "#4575b4", "#74add1", "#abd9e9", "#e0f3f8", "#fee090", "#fdae61", "#f46d43", "#d73027", "#a50026"];
  var lo = Math.floor(s.t_min), hi = Math.ceil(s.t_max);
  if (hi - lo < 4) { hi = lo + 4; }
  var showLabels = w.rows * w.cols <= 80;
  var cols = [], rows = [];
  for (var c = 0; c < w.cols; c++) cols.push((c + 1) + "列");
  for (var r = 0; r < w.rows; r++) rows.push((r + 1) + "行");

  function marks(list, layer, key) {
    return list.filter(function (p) { return p[key] === layer; });
  }
  function visual() {
    return {min: lo, max: hi, calculable: true, orient: "horizontal", left: "center", bottom: 0, itemHeight: 120,
            text: [hi + "℃", lo + "℃"], inRange: {color: COLORS}};
  }
  var holder = document.getElementById("layers");
  for (var k = 0; k < w.layers; k++) {
    var el = document.createElement("div");
    el.className = "heat";
    el.setAttribute("data-layer", k + 1);
    holder.appendChild(el);
    var data = [];
    for (var r2 = 0; r2 < w.rows; r2++) {
      for (var c2 = 0; c2 < w.cols; c2++) {
        var v = s.layers[k][r2][c2];
        data.push([c2, r2, v === null ? "-" : v]);
      }
    }
    var hot = marks(s.hot, k, "layer").map(function (p) { return {value: [p.col, p.row, p.value], why: p.why}; });
    var bad = marks(s.faulty, k, "layer").map(function (p) { return {value: [p.col, p.row, p.value], why: p.why}; });
    var st = s.layer_stats[k];
    echarts.init(el).setOption({
      title: {text: "第" + (k + 1) + "层" + (k === 0 ? "（表层）" : (k === w.layers - 1 ? "（底层）" : "")),
              subtext: st[0] === null ? "无有效读数" : "最高 " + st[0] + "℃ 平均 " + st[2] + "℃ 最低 " + st[1] + "℃",
              left: 8, top: 4, textStyle: {fontSize: 14}},
      tooltip: {formatter: function (p) {
        var why = p.data && p.data.why ? "（" + ({margin: "高于本层平均", rise: "升温过快", missing: "无读数", range: "超量程", jump: "跳变", stuck: "读数不变"}[p.data.why] || p.data.why) + "）" : "";
        var val = Array.isArray(p.value) ? p.value : p.data.value;
        return rows[val[1]] + cols[val[0]] + "：" + (val[2] === "-" || val[2] === null ? "—" : val[2] + "℃") + why; }},
      grid: {left: 44, right: 10, top: 52, bottom: 76},
      xAxis: {type: "category", data: cols, splitArea: {show: true}, axisLabel: {fontSize: 10}},
      yAxis: {type: "category", data: rows, inverse: true, splitArea: {show: true}, axisLabel: {fontSize: 10}},
      visualMap: visual(),
      series: [
        {type: "heatmap", data: data, label: {show: showLabels, fontSize: 10, formatter: function (p) { return p.value[2] === "-" ? "" : p.value[2].toFixed(1); }},
         itemStyle: {borderColor: "#fff", borderWidth: 1}},
        {type: "scatter", data: hot, symbol: "diamond", symbolSize: 18, z: 5,
         itemStyle: {color: "rgba(0,0,0,0)", borderColor: "#000", borderWidth: 3}},
        {type: "scatter", data: bad, symbol: "path://M0,0 L10,10 M10,0 L0,10", symbolSize: 12, z: 5,
         itemStyle: {color: "rgba(0,0,0,0)", borderColor: "#111", borderWidth: 2.5}}
      ]
    });
  }

  // cross-section through one row of cables: columns across, layers down
  var select = document.getElementById("section-row");
  var start = s.hot.length ? s.hot[0].row : Math.floor(w.rows / 2);
  for (var r3 = 0; r3 < w.rows; r3++) {
    var o = document.createElement("option");
    o.value = r3; o.textContent = "第" + (r3 + 1) + "行电缆";
    if (r3 === start) o.selected = true;
    select.appendChild(o);
  }
  var section = echarts.init(document.getElementById("section"));
  var layerNames = [];
  for (var k2 = 0; k2 < w.layers; k2++) layerNames.push("第" + (k2 + 1) + "层");
  function drawSection(row) {
    var data = [];
    for (var k3 = 0; k3 < w.layers; k3++) {
      for (var c3 = 0; c3 < w.cols; c3++) {
        var v = s.layers[k3][row][c3];
        data.push([c3, k3, v === null ? "-" : v]);
      }
    }
    var hot = s.hot.filter(function (p) { return p.row === row; }).map(function (p) { return [p.col, p.layer, p.value]; });
    section.setOption({
      tooltip: {formatter: function (p) { return layerNames[p.value[1]] + cols[p.value[0]] + "：" + (p.value[2] === "-" ? "—" : p.value[2] + "℃"); }},
      grid: {left: 56, right: 10, top: 10, bottom: 76},
      xAxis: {type: "category", data: cols}, yAxis: {type: "category", data: layerNames, inverse: true},
      visualMap: visual(),
      series: [{type: "heatmap", data: data, label: {show: w.cols <= 12, fontSize: 10, formatter: function (p) { return p.value[2] === "-" ? "" : p.value[2].toFixed(1); }}},
               {type: "scatter", data: hot, symbol: "diamond", symbolSize: 18, itemStyle: {color: "rgba(0,0,0,0)", borderColor: "#000", borderWidth: 3}}]
    }, true);
  }
  drawSection(start);
  select.addEventListener("change", function () { drawSection(parseInt(select.value, 10)); });

  var t = f.trend;
  echarts.init(document.getElementById("trend")).setOption({
    tooltip: {trigger: "axis"}, legend: {top: 4},
    grid: {left: 44, right: 16, top: 40, bottom: 30},
    xAxis: {type: "category", data: t.t.map(function (x) { return x.slice(5, 16).replace("T", " "); })},
    yAxis: {type: "value", name: "℃", scale: true},
    series: [
      {name: "最高粮温", type: "line", data: t.max, showSymbol: false, lineStyle: {color: "#d73027"}, itemStyle: {color: "#d73027"}},
      {name: "平均粮温", type: "line", data: t.mean, showSymbol: false, lineStyle: {color: "#fdae61"}, itemStyle: {color: "#fdae61"}},
      {name: "最低粮温", type: "line", data: t.min, showSymbol: false, lineStyle: {color: "#4575b4"}, itemStyle: {color: "#4575b4"}},
      {name: "仓温", type: "line", data: t.air, showSymbol: false, lineStyle: {type: "dashed", color: "#6b7280"}, itemStyle: {color: "#6b7280"}},
      {name: "气温", type: "line", data: t.out, showSymbol: false, lineStyle: {type: "dotted", color: "#15803d"}, itemStyle: {color: "#15803d"}}
    ]
  });
})();
