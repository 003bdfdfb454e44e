/* api/www/app.js  the sbc dashboard: polls the REST API and /metrics, draws
 * the tables and the graphs. No framework, no build step, no other origin:
 * the page's Content-Security-Policy allows 'self' only. Everything that
 * came from the network reaches the page through textContent, never as
 * markup (a From header is the caller's to choose). */
'use strict';

(function () {
	const POLL_MS = 2500;           /* between the end of one poll and the next */
	const FETCH_TIMEOUT_MS = 5000;
	const HISTORY = 120;            /* samples per graph: 5 minutes */
	const CONFIRM_MS = 4000;        /* a Hang up click waits this long for the second */
	const KEY = 'sbc.token';

	const $ = (id) => document.getElementById(id);

	const state = {
		token: sessionStorage.getItem(KEY) || localStorage.getItem(KEY) || '',
		timer: null,
		polling: false,
		prev: null,             /* {t, calls, packets}: the last scrape's counters */
		series: { cps: [], active: [], pps: [] },
		confirm: new Map(),     /* call id -> time the confirmation ends */
		busy: new Set(),        /* call ids with a DELETE under way */
	};

	/* ---- HTTP ---------------------------------------------------------- */

	class ApiError extends Error {
		constructor(status, message) {
			super(message);
			this.status = status;
		}
	}

	/* One request; resolves to {status, headers, body} or throws ApiError
	 * with the API's {"error": sentence} as the message. */
	async function request(method, path, opts) {
		const o = opts || {};
		const ctl = new AbortController();
		const to = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
		const headers = { 'Accept': o.text ? 'text/plain' : 'application/json' };
		if (o.auth !== false && state.token)
			headers['Authorization'] = 'Bearer ' + state.token;
		let r;
		try {
			r = await fetch(path, { method, headers, signal: ctl.signal,
						cache: 'no-store', credentials: 'omit' });
		} catch (e) {
			throw new ApiError(0, e.name === 'AbortError' ?
					   'the server did not answer in time' :
					   'cannot reach the server');
		} finally {
			clearTimeout(to);
		}
		const text = await r.text();
		if (!r.ok && !(o.accept && o.accept.includes(r.status))) {
			let why = 'HTTP ' + r.status;
			try {
				const doc = JSON.parse(text);
				if (doc && typeof doc.error === 'string')
					why = doc.error;
			} catch (e) { /* not JSON: keep the status */ }
			throw new ApiError(r.status, why);
		}
		let body = text;
		if (!o.text && text) {
			try {
				body = JSON.parse(text);
			} catch (e) {
				throw new ApiError(r.status, 'the reply is not JSON');
			}
		}
		return { status: r.status, headers: r.headers, body };
	}

	/* ---- Prometheus text format ------------------------------------- */

	/* Sum of every sample of each family: {name: total}. Enough for the
	 * graphs, which add the label sets up. */
	function parseMetrics(text) {
		const sums = Object.create(null);
		for (const line of text.split('\n')) {
			if (!line || line[0] === '#')
				continue;
			const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
			if (!m)
				continue;
			const v = Number(m[3]);
			if (!Number.isFinite(v))
				continue;
			sums[m[1]] = (sums[m[1]] || 0) + v;
		}
		return sums;
	}

	/* ---- formatting --------------------------------------------------- */

	function duration(s) {
		if (!Number.isFinite(s) || s < 0)
			s = 0;
		s = Math.floor(s);
		const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
		const ss = String(s % 60).padStart(2, '0');
		return h ? h + ':' + String(m).padStart(2, '0') + ':' + ss
			 : m + ':' + ss;
	}

	function number(v, digits) {
		if (v === null || v === undefined || !Number.isFinite(v))
			return '–';
		if (Math.abs(v) >= 1e6)
			return (v / 1e6).toFixed(1) + 'M';
		if (Math.abs(v) >= 1e4)
			return (v / 1e3).toFixed(1) + 'k';
		return v.toFixed(digits || 0);
	}

	/* <td> with <text> (never markup) and an optional class and title. */
	function cell(text, cls, title) {
		const td = document.createElement('td');
		td.textContent = text === null || text === undefined ? '' : String(text);
		if (cls)
			td.className = cls;
		if (title)
			td.title = title;
		return td;
	}

	function tag(text, cls) {
		const td = document.createElement('td');
		const s = document.createElement('span');
		s.className = 'tag ' + (cls || '');
		s.textContent = text;
		td.appendChild(s);
		return td;
	}

	function fill(tableId, rows, total, unit) {
		const table = $(tableId);
		const tbody = table.tBodies[0];
		tbody.replaceChildren(...rows);
		table.parentElement.hidden = rows.length === 0;
		$(tableId + '-empty').hidden = rows.length !== 0;
		const c = $(tableId + '-count');
		if (total > rows.length)
			c.textContent = rows.length + ' of ' + total + ' ' + unit;
		else
			c.textContent = total ? String(total) : '';
	}

	/* ---- views -------------------------------------------------------- */

	function media(m) {
		if (!m)
			return ['–', ''];
		return [number(m.packets) + ' / ' + number(m.lost),
			'bytes ' + m.bytes + ', jitter ' + m.jitter_us + ' µs'];
	}

	function hangupButton(call) {
		const b = document.createElement('button');
		const id = String(call.id);
		const until = state.confirm.get(id);
		b.type = 'button';
		b.dataset.call = id;
		if (until && until > Date.now()) {
			b.className = 'btn btn-confirm hangup';
			b.textContent = 'Confirm';
		} else {
			b.className = 'btn btn-danger hangup';
			b.textContent = 'Hang up';
		}
		b.disabled = state.busy.has(id) || call.state === 'ending';
		return b;
	}

	function renderCalls(list, total) {
		const now = Date.now();
		const rows = list.map((c) => {
			const tr = document.createElement('tr');
			tr.dataset.call = String(c.id);
			const since = c.answered_at || c.started_at;
			const [ma, ta] = media(c.media && c.media.caller);
			const [mb, tb] = media(c.media && c.media.callee);
			tr.append(cell(c.id, 'num'), cell(c.from, 'wrap call-from'),
				  cell(c.to, 'wrap call-to'),
				  tag(c.direction, 'tag-' + c.direction),
				  cell(c.trunk || '–'), cell(c.state, 'call-state'),
				  cell(duration((now - since) / 1000), 'num',
				       c.answered_at ? 'since answered' : 'since the INVITE'),
				  cell(ma, 'num', ta), cell(mb, 'num', tb));
			const td = document.createElement('td');
			td.appendChild(hangupButton(c));
			tr.appendChild(td);
			return tr;
		});
		fill('calls', rows, total, 'calls');
	}

	function renderRegs(list, total) {
		const rows = list.map((r) => {
			const tr = document.createElement('tr');
			tr.append(cell(r.aor, 'reg-aor'), cell(r.contact, 'wrap'),
				  cell(r.source), cell(r.transport),
				  cell(r.user_agent, 'wrap'),
				  cell(duration(r.expires), 'num'));
			return tr;
		});
		fill('regs', rows, total, 'contacts');
		$('k-regs').textContent = number(total);
	}

	function renderTrunks(list, total) {
		let up = 0;
		const rows = list.map((t) => {
			const st = t.status || {};
			const tr = document.createElement('tr');
			tr.dataset.trunk = t.name;
			let s, cls;
			if (!t.enabled) {
				s = 'disabled';
				cls = 'pill pill-unknown';
			} else if (st.reachable) {
				s = 'up';
				cls = 'pill pill-ok';
				++up;
			} else {
				s = 'down';
				cls = 'pill pill-bad';
			}
			const stTd = document.createElement('td');
			const pill = document.createElement('span');
			pill.className = cls + ' trunk-status';
			pill.textContent = s;
			stTd.appendChild(pill);
			const limits = [];
			if (t.max_calls)
				limits.push(t.max_calls + ' calls');
			if (t.max_cps)
				limits.push(t.max_cps + ' cps');
			tr.append(cell(t.name, 'trunk-name'),
				  cell(t.host + ':' + t.port + ' ' + t.transport),
				  stTd,
				  cell(t.register ? (st.registered ? 'registered'
							 : 'not registered') : '–'),
				  cell(st.active_calls, 'num'),
				  cell(limits.length ? limits.join(', ') : 'none'));
			return tr;
		});
		fill('trunks', rows, total, 'trunks');
		$('k-trunks').textContent = total ? up + ' / ' + total : '0';
	}

	function renderHealth(h, ok) {
		const el = $('health');
		if (!ok) {
			el.className = 'pill pill-bad';
			el.textContent = 'unreachable';
			$('mediad').textContent = '?';
			$('uptime').textContent = '?';
			return;
		}
		el.className = 'pill ' + (h.status === 'ok' ? 'pill-ok' : 'pill-warn');
		el.textContent = h.status;
		$('mediad').textContent = h.mediad;
		$('uptime').textContent = duration(h.uptime_s);
	}

	function banner(text, kind) {
		const b = $('banner');
		b.hidden = !text;
		b.textContent = text || '';
		b.className = 'banner' + (kind ? ' banner-' + kind : '');
	}

	/* ---- graphs ------------------------------------------------------- */

	function push(series, t, v) {
		series.push({ t, v });
		while (series.length > HISTORY)
			series.shift();
	}

	/* A tick step for four bands holding <v>: 1, 2, 2.5 or 5 x 10^n, at
	 * least 1 for counts (<integer>), so the labels stay round. */
	function niceStep(v, integer) {
		const raw = Math.max(v / 4, integer ? 1 : 0.25);
		const p = Math.pow(10, Math.floor(Math.log10(raw)));
		for (const k of [1, 2, 2.5, 5, 10]) {
			if (k * p >= raw && (!integer || Number.isInteger(k * p)))
				return k * p;
		}
		return 10 * p;
	}

	function tickLabel(v) {
		return Math.abs(v) >= 1e4 ? number(v) : String(Number(v.toFixed(3)));
	}

	function draw(canvas, series, digits, integer) {
		const dpr = window.devicePixelRatio || 1;
		const w = Math.max(1, canvas.clientWidth), h = Math.max(1, canvas.clientHeight);
		if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
			canvas.width = Math.round(w * dpr);
			canvas.height = Math.round(h * dpr);
		}
		const g = canvas.getContext('2d');
		const css = getComputedStyle(document.documentElement);
		const line = css.getPropertyValue('--line').trim() || '#ddd';
		const muted = css.getPropertyValue('--muted').trim() || '#888';
		const accent = css.getPropertyValue('--accent').trim() || '#1f6feb';
		const soft = css.getPropertyValue('--accent-soft').trim() || 'rgba(31,111,235,.15)';

		g.setTransform(dpr, 0, 0, dpr, 0, 0);
		g.clearRect(0, 0, w, h);
		g.font = '11px system-ui, sans-serif';

		const left = 38, right = 8, top = 8, bottom = 18;
		const pw = w - left - right, ph = h - top - bottom;
		const now = series.length ? series[series.length - 1].t : Date.now();
		const span = HISTORY * POLL_MS;
		const step = niceStep(Math.max(0, ...series.map((p) => p.v)) * 1.1,
				      integer);
		const ymax = 4 * step;

		/* grid and labels: four bands, the time axis in minutes ago */
		g.strokeStyle = line;
		g.fillStyle = muted;
		g.lineWidth = 1;
		g.textAlign = 'right';
		g.textBaseline = 'middle';
		for (let i = 0; i <= 4; i++) {
			const y = Math.round(top + ph - ph * i / 4) + 0.5;
			g.beginPath();
			g.moveTo(left, y);
			g.lineTo(left + pw, y);
			g.stroke();
			g.fillText(tickLabel(step * i), left - 5, y);
		}
		g.textBaseline = 'alphabetic';
		for (let m = 0; m <= span / 60000; m++) {
			const x = left + pw - pw * m * 60000 / span;
			g.textAlign = m ? 'center' : 'right';
			g.fillText(m ? '-' + m + 'm' : 'now', m ? x : left + pw, h - 4);
		}

		canvas.dataset.points = String(series.length);
		canvas.dataset.last = series.length ?
			String(series[series.length - 1].v) : '';
		if (!series.length) {
			g.textAlign = 'center';
			g.textBaseline = 'middle';
			g.fillStyle = muted;
			g.fillText('no data yet', left + pw / 2, top + ph / 2);
			return;
		}

		const xy = (p) => [left + pw - pw * (now - p.t) / span,
				   top + ph - ph * Math.min(p.v, ymax) / ymax];
		const trace = () => {
			g.beginPath();
			series.forEach((p, i) => {
				const [x, y] = xy(p);
				if (i)
					g.lineTo(x, y);
				else
					g.moveTo(x, y);
			});
		};
		const [x0] = xy(series[0]);
		const [x1, y1] = xy(series[series.length - 1]);

		/* the area under the line first, then the line and its end */
		trace();
		g.lineTo(x1, top + ph);
		g.lineTo(x0, top + ph);
		g.closePath();
		g.fillStyle = soft;
		g.fill();
		trace();
		g.strokeStyle = accent;
		g.lineWidth = 2;
		g.lineJoin = 'round';
		g.stroke();
		g.beginPath();
		g.arc(x1, y1, 2.5, 0, 2 * Math.PI);
		g.fillStyle = accent;
		g.fill();

		/* the last value, top right */
		g.textAlign = 'right';
		g.textBaseline = 'top';
		g.fillStyle = accent;
		g.font = '600 12px system-ui, sans-serif';
		g.fillText(number(series[series.length - 1].v, digits), left + pw, top);
	}

	function drawAll() {
		draw($('c-cps'), state.series.cps, 2, false);
		draw($('c-active'), state.series.active, 0, true);
		draw($('c-pps'), state.series.pps, 0, true);
	}

	/* Counters become rates against the previous scrape; a counter that
	 * went down (a restart) counts as a new start, never a negative rate. */
	function sample(sums) {
		const t = Date.now();
		const cur = {
			t,
			calls: sums.sbc_calls_total,
			packets: sums.mediad_packets_total,
		};
		const rate = (k) => {
			if (!state.prev || cur[k] === undefined || state.prev[k] === undefined)
				return null;
			const dt = (t - state.prev.t) / 1000;
			const d = cur[k] - state.prev[k];
			return dt > 0 ? Math.max(0, d) / dt : null;
		};
		const cps = rate('calls'), pps = rate('packets');
		const active = sums.sbc_calls_active;
		if (cps !== null)
			push(state.series.cps, t, cps);
		if (active !== undefined)
			push(state.series.active, t, active);
		if (pps !== null)
			push(state.series.pps, t, pps);
		state.prev = cur;
		$('k-cps').textContent = cps === null ? '–' : number(cps, 2);
		$('k-pps').textContent = pps === null ? '–' : number(pps);
		$('k-active').textContent = active === undefined ? '–' : number(active);
		drawAll();
	}

	/* ---- the poll ------------------------------------------------------- */

	function needToken(why) {
		document.body.dataset.state = 'auth';
		$('login').hidden = false;
		$('signout').hidden = true;
		$('login-error').textContent = why || '';
		$('token').focus();
	}

	async function poll() {
		state.timer = null;
		if (state.polling)
			return;
		state.polling = true;
		try {
			await pollOnce();
		} finally {
			state.polling = false;
			if (state.token)
				state.timer = setTimeout(poll, POLL_MS);
		}
	}

	async function pollOnce() {
		let healthy = true;
		try {
			const h = await request('GET', '/health', { auth: false, accept: [503] });
			renderHealth(h.body, true);
		} catch (e) {
			renderHealth(null, false);
			healthy = false;
		}
		if (!state.token) {
			needToken('');
			return;
		}
		if (!healthy) {
			banner('Cannot reach the sbc: retrying.', 'bad');
			document.body.dataset.state = 'error';
			return;
		}

		const list = (path) => request('GET', path).then((r) => ({
			body: r.body,
			total: Number(r.headers.get('X-Total-Count') || r.body.length),
		}));
		try {
			/* one request first: a wrong token then costs one failed
			 * authentication, not four (the API blocks a source
			 * after ten in a minute) */
			const calls = await list('/api/v1/calls?limit=200');
			const [regs, trunks, metrics] = await Promise.all([
				list('/api/v1/registrations?limit=100'),
				list('/api/v1/trunks?limit=1000'),
				request('GET', '/metrics', { text: true }),
			]);
			renderCalls(calls.body, calls.total);
			renderRegs(regs.body, regs.total);
			renderTrunks(trunks.body, trunks.total);
			sample(parseMetrics(metrics.body));
			banner('', null);
			$('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
			document.body.dataset.state = 'ok';
			$('login').hidden = true;
			$('signout').hidden = false;
		} catch (e) {
			if (e.status === 401) {
				forget();
				needToken(e.message);
				return;
			}
			banner(e.message + (e.status ? ' (HTTP ' + e.status + ')' : ''), 'bad');
			document.body.dataset.state = 'error';
		}
	}

	function pollNow() {
		if (state.timer) {
			clearTimeout(state.timer);
			state.timer = null;
		}
		poll();
	}

	/* ---- actions -------------------------------------------------------- */

	function forget() {
		state.token = '';
		sessionStorage.removeItem(KEY);
		localStorage.removeItem(KEY);
	}

	/* Hang up takes two clicks: the first arms the button for CONFIRM_MS. */
	async function onHangup(btn) {
		const id = btn.dataset.call;
		const until = state.confirm.get(id);
		if (!until || until <= Date.now()) {
			state.confirm.set(id, Date.now() + CONFIRM_MS);
			btn.className = 'btn btn-confirm hangup';
			btn.textContent = 'Confirm';
			setTimeout(() => {
				if ((state.confirm.get(id) || 0) <= Date.now()) {
					state.confirm.delete(id);
					if (btn.isConnected && !state.busy.has(id)) {
						btn.className = 'btn btn-danger hangup';
						btn.textContent = 'Hang up';
					}
				}
			}, CONFIRM_MS + 50);
			return;
		}
		state.confirm.delete(id);
		state.busy.add(id);
		btn.disabled = true;
		try {
			await request('DELETE', '/api/v1/calls/' + encodeURIComponent(id));
			banner('Call ' + id + ' hung up.', 'ok');
		} catch (e) {
			if (e.status === 401) {
				forget();
				needToken(e.message);
				return;
			}
			banner('Hang up call ' + id + ': ' + e.message, 'bad');
		} finally {
			state.busy.delete(id);
		}
		pollNow();
	}

	function start() {
		$('login-form').addEventListener('submit', (ev) => {
			ev.preventDefault();
			const t = $('token').value.trim();
			if (!t)
				return;
			forget();
			state.token = t;
			($('remember').checked ? localStorage : sessionStorage).setItem(KEY, t);
			$('token').value = '';
			$('login-error').textContent = '';
			document.body.dataset.state = 'loading';
			pollNow();
		});
		$('signout').addEventListener('click', () => {
			forget();
			needToken('');
		});
		$('calls').addEventListener('click', (ev) => {
			const b = ev.target.closest('button.hangup');
			if (b && !b.disabled)
				onHangup(b);
		});
		window.addEventListener('resize', drawAll);
		drawAll();
		poll();
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
})();
