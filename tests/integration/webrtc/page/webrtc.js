// tests/integration/webrtc/page/webrtc.js  the browser phone, as a test sees it
//
// One JsSIP UA over the WebSocket given in the query string (or the
// form), with every SIP message in and out recorded. Everything the test
// asserts on lives in window.T and is plain JSON-able data, read over
// the DevTools protocol (Runtime.evaluate):
//   T.ws      'idle' | 'connecting' | 'connected' | 'disconnected'
//   T.reg     'idle' | 'registering' | 'registered' | 'failed' |
//             'unregistered'; T.regStatus: the final response's code
//   T.call    'idle' | 'calling' | 'progress' | 'accepted' | 'confirmed' |
//             'ended' | 'failed'; T.callCause, T.callStatus, T.endedBy
//   T.sip     [{dir: 'in'|'out', first: first line, text}]
//   T.sdp     [{originator, type, sdp}] as JsSIP's 'sdp' event saw them
//   T.tones   the RTCDTMFSender's tonechange events ('' = queue done)
//   T.pc      ICE / DTLS / connection state changes of the peer connection
//   T.errors  exceptions of the actions below
//   T.incoming  the calls that came in: [{from, sdp}] (the INVITE's)
// and the actions: T.register(), T.dial(target), T.dtmf(tones),
// T.hangup(), T.stop(), T.stats() (a promise of a getStats() summary).
// With T.autoAnswer set (or ?answer=1) an incoming call is answered at
// once with the microphone; it becomes T.session like a dialled one.
'use strict';

(function () {
	const q = new URLSearchParams(location.search);
	const $ = (id) => document.getElementById(id);

	const T = window.T = {
		ws: 'idle', wsCode: null,
		reg: 'idle', regStatus: null, regCause: null,
		call: 'idle', callCause: null, callStatus: null, endedBy: null,
		sip: [], sdp: [], tones: [], pc: [], errors: [],
		incoming: [], autoAnswer: q.get('answer') === '1',
		ua: null, session: null,
	};

	for (const k of ['ws', 'user', 'pass', 'domain', 'target', 'tones'])
		$(k).value = q.get(k) || '';
	if (!$('domain').value)
		$('domain').value = 'example.com';

	if (q.get('debug'))
		JsSIP.debug.enable('JsSIP:*');
	else
		JsSIP.debug.disable();

	function fail(what, e) {
		T.errors.push(what + ': ' + (e && e.message ? e.message : e));
		render();
	}

	// ---- the WebSocket, every SIP message recorded -----------------------
	//
	// JsSIP takes any object with url, via_transport, sip_uri, connect(),
	// disconnect(), send() and the onconnect/ondisconnect/ondata handlers
	// it sets; this one hands everything to JsSIP's own WebSocketInterface
	// and notes what passes.
	class RecordingSocket {
		constructor(url) {
			this.inner = new JsSIP.WebSocketInterface(url);
			this.onconnect = () => {};
			this.ondisconnect = () => {};
			this.ondata = () => {};
		}
		get url() { return this.inner.url; }
		get sip_uri() { return this.inner.sip_uri; }
		get via_transport() { return this.inner.via_transport; }
		set via_transport(v) { this.inner.via_transport = v; }
		isConnected() { return this.inner.isConnected(); }
		isConnecting() { return this.inner.isConnecting(); }

		connect() {
			T.ws = 'connecting';
			this.inner.onconnect = () => {
				T.ws = 'connected';
				render();
				this.onconnect();
			};
			this.inner.ondisconnect = (error, code, reason) => {
				T.ws = 'disconnected';
				T.wsCode = code;
				render();
				this.ondisconnect(error, code, reason);
			};
			this.inner.ondata = (data) => {
				note('in', data);
				this.ondata(data);
			};
			this.inner.connect();
		}
		disconnect() { this.inner.disconnect(); }
		send(msg) {
			note('out', msg);
			return this.inner.send(msg);
		}
	}

	function note(dir, data) {
		const text = typeof data === 'string' ? data
			: new TextDecoder().decode(data);
		if (text === '\r\n' || text === '\r\n\r\n')
			return;                 // keepalives
		T.sip.push({dir: dir, first: text.split('\r\n', 1)[0], text: text});
		render();
	}

	// ---- actions ---------------------------------------------------------

	T.register = function () {
		try {
			const domain = $('domain').value;
			const ua = new JsSIP.UA({
				sockets: [new RecordingSocket($('ws').value)],
				uri: 'sip:' + $('user').value + '@' + domain,
				password: $('pass').value,
				display_name: 'WebRTC test',
				register: true,
				register_expires: 300,
				session_timers: false,
				user_agent: 'sbc-webrtc-test (JsSIP ' + JsSIP.version + ')',
				// one WebSocket: a failure is the test's answer, not a
				// reason to go on trying
				connection_recovery_min_interval: 30,
				connection_recovery_max_interval: 60,
			});
			T.ua = ua;
			T.reg = 'registering';
			ua.on('registered', (e) => {
				T.reg = 'registered';
				T.regStatus = e.response.status_code;
				render();
			});
			ua.on('unregistered', (e) => {
				T.reg = 'unregistered';
				T.regStatus = e.response ? e.response.status_code : null;
				render();
			});
			ua.on('registrationFailed', (e) => {
				T.reg = 'failed';
				T.regStatus = e.response ? e.response.status_code : null;
				T.regCause = e.cause;
				render();
			});
			ua.on('newRTCSession', (e) => {
				if (e.originator === 'remote')
					incoming(e.session, e.request);
			});
			ua.start();
		} catch (e) {
			fail('register', e);
		}
		render();
		return true;
	};

	T.dial = function (target) {
		try {
			target = target || $('target').value;
			if (target.indexOf('@') < 0)
				target = 'sip:' + target + '@' + $('domain').value;
			T.call = 'calling';
			T.session = T.ua.call(target, {
				mediaConstraints: {audio: true, video: false},
				// Chromium's defaults otherwise (bundle
				// 'balanced', rtcp-mux 'require'), as most
				// JsSIP applications run
				pcConfig: {iceServers: []},
				eventHandlers: session_events(),
			});
		} catch (e) {
			T.call = 'failed';
			fail('call', e);
		}
		render();
		return true;
	};
	// a call to us: the session gets the same handlers as a dialled
	// one (attached before answer(), so 'peerconnection' is seen)
	function incoming(session, request) {
		T.incoming.push({from: request.from.uri.toString(),
			sdp: request.body || ''});
		T.session = session;
		T.call = 'incoming';
		const h = session_events();
		for (const k of Object.keys(h))
			session.on(k, h[k]);
		render();
		if (!T.autoAnswer)
			return;
		try {
			session.answer({
				mediaConstraints: {audio: true, video: false},
				pcConfig: {iceServers: []},
			});
		} catch (e) {
			fail('answer', e);
		}
	}

	function session_events() {
		return {
			peerconnection: (e) => watch_pc(e.peerconnection),
			sdp: (e) => {
				T.sdp.push({originator: e.originator, type: e.type,
					sdp: e.sdp});
			},
			progress: () => { T.call = 'progress'; render(); },
			accepted: () => { T.call = 'accepted'; render(); },
			confirmed: () => { T.call = 'confirmed'; render(); },
			ended: (e) => {
				T.call = 'ended';
				T.endedBy = e.originator;
				T.callCause = e.cause;
				render();
			},
			failed: (e) => {
				T.call = 'failed';
				T.endedBy = e.originator;
				T.callCause = e.cause;
				T.callStatus = e.message && e.message.status_code
					? e.message.status_code : null;
				render();
			},
		};
	}

	// the far end's audio goes to a speaker, as a phone's would: only
	// a played track is decoded (inbound-rtp totalSamplesReceived,
	// totalAudioEnergy)
	function play(track) {
		const el = $('remote');
		el.srcObject = new MediaStream([track]);
		el.play().catch((e) => fail('play', e));
	}

	function watch_pc(pc) {
		pc.addEventListener('track', (e) => {
			if (e.track.kind === 'audio')
				play(e.track);
		});
		const seen = () => {
			T.pc.push({ice: pc.iceConnectionState,
				conn: pc.connectionState,
				gathering: pc.iceGatheringState,
				t: Math.round(performance.now())});
			render();
		};
		pc.addEventListener('iceconnectionstatechange', seen);
		pc.addEventListener('connectionstatechange', seen);
		pc.addEventListener('icegatheringstatechange', seen);
	}

	function dtmf_sender() {
		const pc = T.session && T.session.connection;
		const s = pc && pc.getSenders().find((x) => x.track &&
			x.track.kind === 'audio');
		return s ? s.dtmf : null;
	}

	// RFC 4733 events in the audio stream (RTCDTMFSender): JsSIP's
	// transportType RFC2833
	T.dtmf = function (tones) {
		try {
			tones = tones || $('tones').value;
			const d = dtmf_sender();
			if (!d)
				throw new Error('no audio sender with DTMF');
			if (!d.canInsertDTMF)
				throw new Error('canInsertDTMF is false (no ' +
					'telephone-event/8000 negotiated?)');
			d.ontonechange = (e) => { T.tones.push(e.tone); render(); };
			T.session.sendDTMF(tones, {transportType: 'RFC2833',
				duration: 120, interToneGap: 80});
		} catch (e) {
			fail('dtmf', e);
			return false;
		}
		return true;
	};

	T.hangup = function () {
		try {
			T.session.terminate();
		} catch (e) {
			fail('hangup', e);
		}
		return true;
	};

	T.stop = function () {
		try {
			if (T.ua)
				T.ua.stop();
		} catch (e) {
			fail('stop', e);
		}
		return true;
	};

	// ---- getStats() ------------------------------------------------------

	T.stats = async function () {
		const pc = T.session && T.session.connection;
		if (!pc)
			return null;
		const r = await pc.getStats();
		const by = {};
		r.forEach((s) => { by[s.id] = s; });
		const out = {inbound: null, outbound: null, transport: null,
			pair: null, local: null, remote: null};
		const pick = (s, keys) => {
			const o = {};
			for (const k of keys)
				if (s && s[k] !== undefined)
					o[k] = s[k];
			return o;
		};
		const codec = (s) => s && s.codecId && by[s.codecId]
			? by[s.codecId].mimeType + '/' + by[s.codecId].payloadType
			: null;
		r.forEach((s) => {
			if (s.kind !== 'audio' && s.type !== 'transport')
				return;
			if (s.type === 'inbound-rtp') {
				out.inbound = pick(s, ['ssrc', 'packetsReceived',
					'bytesReceived', 'packetsLost', 'jitter',
					'totalAudioEnergy', 'audioLevel',
					'concealedSamples', 'totalSamplesReceived']);
				out.inbound.codec = codec(s);
			} else if (s.type === 'outbound-rtp') {
				out.outbound = pick(s, ['ssrc', 'packetsSent',
					'bytesSent']);
				out.outbound.codec = codec(s);
			} else if (s.type === 'transport') {
				out.transport = pick(s, ['dtlsState', 'iceState',
					'dtlsRole', 'srtpCipher', 'dtlsCipher',
					'tlsVersion', 'packetsSent', 'packetsReceived',
					'selectedCandidatePairId']);
			}
		});
		const p = out.transport && by[out.transport.selectedCandidatePairId];
		if (p) {
			out.pair = pick(p, ['state', 'nominated', 'packetsSent',
				'packetsReceived', 'requestsSent',
				'responsesReceived', 'requestsReceived']);
			for (const side of ['local', 'remote']) {
				const c = by[p[side + 'CandidateId']];
				out[side] = pick(c, ['address', 'port', 'protocol',
					'candidateType']);
			}
		}
		out.connection = pc.connectionState;
		out.ice = pc.iceConnectionState;
		return out;
	};

	// ---- the page for a person --------------------------------------------

	function render() {
		const st = {ws: T.ws, reg: T.reg, regStatus: T.regStatus,
			regCause: T.regCause, call: T.call, callCause: T.callCause,
			callStatus: T.callStatus, endedBy: T.endedBy,
			tones: T.tones, pc: T.pc.slice(-3), errors: T.errors};
		$('state').textContent = JSON.stringify(st, null, 1);
		$('sip').textContent = T.sip.map((m) => (m.dir === 'in'
			? '<- ' : '-> ') + m.first).join('\n');
	}

	async function tick() {
		try {
			const s = await T.stats();
			if (s)
				$('stats').textContent = JSON.stringify(s, null, 1);
		} catch (e) {
			$('stats').textContent = String(e);
		}
	}
	setInterval(tick, 1000);

	$('b-register').onclick = () => T.register();
	$('b-call').onclick = () => T.dial();
	$('b-dtmf').onclick = () => T.dtmf();
	$('b-hangup').onclick = () => T.hangup();
	$('b-stop').onclick = () => T.stop();
	render();
	T.ready = true;
})();
