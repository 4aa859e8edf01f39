// The usage dashboard: a page of its own that reads the GraphQL API only, with
// the token its user pastes (kept in sessionStorage for this tab).
(function () {
  'use strict';
  var DAYS = 30;
  var $ = function (id) { return document.getElementById(id); };
  var text = function (el, value) { el.textContent = value; return el; };
  var make = function (tag, value) { var el = document.createElement(tag); if (value !== undefined) el.textContent = value; return el; };

  function day(offset) {
    var d = new Date();
    d.setUTCHours(0, 0, 0, 0);
    d.setUTCDate(d.getUTCDate() - offset);
    return d.toISOString().slice(0, 10);
  }

  // The days go in operations of at most DAYS_PER_OPERATION aliases each: the
  // smallest plan's alias limit (FREE: 30, plan_operation_limits) counts them.
  var DAYS_PER_OPERATION = 15;
  function dayQueries() {
    var operations = [];
    for (var start = DAYS - 1; start >= 0; start -= DAYS_PER_OPERATION) {
      var days = [];
      for (var i = start; i > start - DAYS_PER_OPERATION && i >= 0; i--) {
        var date = day(i);
        days.push('d' + date.replace(/-/g, '_') + ': usage(period: {range: {from: "' + date + '", to: "' + date + '"}}) { apiCalls bandwidth computeTime }');
      }
      operations.push('query DashboardDays {\n  ' + days.join('\n  ') + '\n}');
    }
    return operations;
  }

  function query() {
    var usage = 'apiCalls bandwidth computeTime activeUsers storage period { from to } estimatedCost { amountMinor currency }';
    return 'query Dashboard {\n' +
      '  viewer { role user { email } organization { name slug quotas { resource limit used } } }\n' +
      '  current: usage(period: {preset: CURRENT_MONTH}) { ' + usage + ' }\n' +
      '  last: usage(period: {preset: LAST_MONTH}) { ' + usage + ' }\n' +
      '  invoices(first: 12) { edges { node { period status dueDate total { amountMinor currency } } } }\n' +
      '  members(first: 100) { totalCount edges { node { role } } }\n}';
  }

  function money(m) { return (m.amountMinor / 100).toFixed(2) + ' ' + m.currency; }
  function bytes(n) {
    var units = ['B', 'kB', 'MB', 'GB', 'TB'];
    var i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : n) + ' ' + units[i];
  }

  function show(state, message) {
    $('status').className = state;
    text($('status'), message);
  }

  function usageTable(data) {
    var quotas = {};
    data.viewer.organization.quotas.forEach(function (q) { quotas[q.resource] = q; });
    var rows = [
      ['API calls', 'apiCalls', 'API_CALLS', String],
      ['Bandwidth', 'bandwidth', null, bytes],
      ['Compute', 'computeTime', null, function (ms) { return (ms / 1000).toFixed(1) + ' s'; }],
      // The USERS quota counts members, not active users: it is shown with the members.
      ['Active users', 'activeUsers', null, String],
      ['Estimated cost', null, null, null],
    ];
    var body = $('usage');
    body.replaceChildren();
    rows.forEach(function (r) {
      var tr = make('tr');
      tr.appendChild(make('th', r[0]));
      if (r[1] === null) {
        tr.appendChild(make('td', money(data.current.estimatedCost)));
        tr.appendChild(make('td', money(data.last.estimatedCost)));
        tr.appendChild(make('td', ''));
      } else {
        tr.appendChild(make('td', r[3](data.current[r[1]])));
        tr.appendChild(make('td', r[3](data.last[r[1]])));
        var q = r[2] && quotas[r[2]];
        tr.appendChild(make('td', q ? (q.limit === null ? 'unlimited' : q.used + ' of ' + q.limit) : '—'));
      }
      body.appendChild(tr);
    });
  }

  function charts(data) {
    var xs = [], calls = [], bandwidth = [], compute = [];
    for (var i = DAYS - 1; i >= 0; i--) {
      var date = day(i);
      var u = data['d' + date.replace(/-/g, '_')];
      xs.push(Date.parse(date + 'T00:00:00Z') / 1000);
      calls.push(u.apiCalls);
      bandwidth.push(u.bandwidth);
      compute.push(u.computeTime);
    }
    var holder = $('charts');
    holder.replaceChildren();
    [['API calls per day', calls, '#0f7b6c'], ['Bandwidth per day (bytes)', bandwidth, '#2f5fb3'], ['Compute per day (ms)', compute, '#b35f2f']].forEach(function (c) {
      var box = make('div');
      box.className = 'chart';
      holder.appendChild(box);
      new uPlot({
        title: c[0], width: 420, height: 200,
        scales: { x: { time: true } },
        series: [{}, { label: c[0], stroke: c[2], fill: c[2] + '33', paths: uPlot.paths.bars({ size: [0.7] }) }],
        axes: [{}, { size: 60 }],
        legend: { show: false },
      }, [xs, c[1]], box);
    });
  }

  function invoices(data) {
    var body = $('invoices');
    body.replaceChildren();
    if (!data.invoices.edges.length) { var tr = make('tr'); var td = make('td', 'No invoices yet.'); td.colSpan = 4; tr.appendChild(td); body.appendChild(tr); }
    data.invoices.edges.forEach(function (e) {
      var tr = make('tr');
      [e.node.period, e.node.status, money(e.node.total), e.node.dueDate].forEach(function (v) { tr.appendChild(make('td', v)); });
      tr.className = 'invoice-' + e.node.status.toLowerCase();
      body.appendChild(tr);
    });
  }

  function members(data) {
    var counts = { OWNER: 0, ADMIN: 0, MEMBER: 0 };
    data.members.edges.forEach(function (e) { counts[e.node.role] += 1; });
    var list = $('members');
    list.replaceChildren();
    Object.keys(counts).forEach(function (role) { list.appendChild(make('li', role.toLowerCase() + 's: ' + counts[role])); });
    var seats = data.viewer.organization.quotas.filter(function (q) { return q.resource === 'USERS'; })[0];
    list.appendChild(make('li', 'total: ' + data.members.totalCount + (seats && seats.limit !== null ? ' of ' + seats.limit + ' allowed by the plan' : '')));
  }

  function load(token) {
    show('loading', 'Loading…');
    var post = function (text) {
      return fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
        body: JSON.stringify({ query: text }),
      }).then(function (response) { return response.json(); });
    };
    // The page first: a member is told at once that the dashboard is not for them.
    return post(query()).then(function (first) {
      if (first.errors && first.errors.length) return first;
      return Promise.all(dayQueries().map(post)).then(function (rest) {
        var failed = rest.filter(function (b) { return b.errors && b.errors.length; })[0];
        if (failed) return failed;
        rest.forEach(function (b) { Object.assign(first.data, b.data); });
        return first;
      });
    }).then(function (body) {
      if (body.errors && body.errors.length) {
        var code = body.errors[0].extensions && body.errors[0].extensions.code;
        var message = code === 'FORBIDDEN' ? 'The dashboard is for owners and admins of the organization.' : body.errors[0].message;
        show('error', message + (code ? ' (' + code + ')' : ''));
        $('content').hidden = true;
        return;
      }
      var data = body.data;
      text($('organization'), data.viewer.organization.name + ' (' + data.viewer.organization.slug + ')');
      text($('viewer'), data.viewer.user.email + ', ' + data.viewer.role.toLowerCase());
      text($('period'), data.current.period.from + ' – ' + data.current.period.to + ' against ' + data.last.period.from + ' – ' + data.last.period.to);
      $('content').hidden = false;
      usageTable(data);
      charts(data);
      invoices(data);
      members(data);
      show('ready', 'Updated ' + new Date().toLocaleTimeString());
    }).catch(function (error) { show('error', String(error)); });
  }

  $('signin').addEventListener('submit', function (event) {
    event.preventDefault();
    var token = $('token').value.trim().replace(/^Bearer\s+/i, '');
    sessionStorage.setItem('tenantgate.token', token);
    load(token);
  });
  var given = document.body.getAttribute('data-token') || sessionStorage.getItem('tenantgate.token');
  if (given) { $('token').value = given; load(given); }
})();
