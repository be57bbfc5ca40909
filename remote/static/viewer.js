// vpstage web viewer: WebRTC video of the camera view or a canvas, status poll, latency report.
// The token comes from the URL fragment (#token=...) or a prompt, and goes in every API call as
// "Authorization: Bearer TOKEN". window.vpstage exposes what tests and the latency bench read.
"use strict";

const BAR = { cells: 32, dataBits: 24, checkBits: 6, rows: 16 };
const state = { token: "", pc: null, viewer: null, frame: null, decoded: 0, unreadable: 0, samples: [],
                codec: "", error: "", status: null, counters: [] };
window.vpstage = state;

function token() {
  const hash = new URLSearchParams(location.hash.slice(1));
  let value = hash.get("token") || sessionStorage.getItem("vpstage-token") || "";
  if (!value) value = (prompt("vpstage access token") || "").trim();
  sessionStorage.setItem("vpstage-token", value);
  return value;
}

async function api(path, body) {
  const init = { headers: { Authorization: "Bearer " + state.token } };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function showError(text) {
  state.error = text;
  document.getElementById("error").textContent = text;
}

function checkValue(value) {
  return (value * 37 + Math.floor(value / 128) + 11) % (1 << BAR.checkBits);
}

// The frame counter stamped into the top rows (remote/barcode.py), or null.
function readBarcode(pixels, width) {
  const cell = width / BAR.cells, means = [];
  for (let i = 0; i < BAR.cells; i++) {
    const x0 = Math.round((i + 0.3) * cell), x1 = Math.round((i + 0.7) * cell);
    let sum = 0, n = 0;
    for (let x = x0; x <= x1 && x < width; x++) {
      const k = x * 4;
      sum += (pixels[k] + pixels[k + 1] + pixels[k + 2]) / 3; n++;
    }
    means.push(sum / Math.max(n, 1));
  }
  if (means[0] - means[1] < 64) return null;
  const threshold = (means[0] + means[1]) / 2;
  let value = 0, check = 0;
  for (let i = 0; i < BAR.dataBits; i++) value = value * 2 + (means[2 + i] > threshold ? 1 : 0);
  for (let i = 0; i < BAR.checkBits; i++) check = check * 2 + (means[2 + BAR.dataBits + i] > threshold ? 1 : 0);
  return check === checkValue(value) ? value : null;
}

function watchFrames(video) {
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const onFrame = () => {
    const decodedAt = performance.timeOrigin + performance.now();
    const width = video.videoWidth, height = video.videoHeight;
    if (width > 0 && height > 0) {
      if (canvas.width !== width) { canvas.width = width; canvas.height = BAR.rows; }
      context.drawImage(video, 0, 0, width, BAR.rows, 0, 0, width, BAR.rows);
      const row = context.getImageData(0, Math.floor(BAR.rows / 2), width, 1).data;
      const value = readBarcode(row, width);
      if (value === null) state.unreadable++;
      else if (value !== state.frame) {
        state.frame = value; state.decoded++;
        state.samples.push([value, decodedAt]);
        state.counters.push(value);
        if (state.counters.length > 1000) state.counters.shift();
      }
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

async function reportLatency() {
  if (state.samples.length === 0) return;
  const samples = state.samples.splice(0, 600);
  try { await api("/api/latency", { samples }); } catch (e) { /* the next status poll shows errors */ }
}

function waitForIce(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 2000);
  });
}

// H.264 first (hardware decoding on tablets), then VP8; the server answers in the offer's order.
function preferCodecs(transceiver) {
  if (!transceiver.setCodecPreferences || !RTCRtpReceiver.getCapabilities) return;
  const rank = (c) => ({ "video/H264": 0, "video/VP8": 1 })[c.mimeType] ?? 2;
  const codecs = RTCRtpReceiver.getCapabilities("video").codecs.slice().sort((a, b) => rank(a) - rank(b));
  try { transceiver.setCodecPreferences(codecs); } catch (e) { /* keep the browser's order */ }
}

async function connect() {
  if (state.pc) { state.pc.close(); if (state.viewer) api("/api/webrtc/close", { viewer: state.viewer }).catch(() => {}); }
  const [width, height] = document.getElementById("size").value.split("x").map(Number);
  const view = document.getElementById("view").value || "camera";
  const fps = Number(document.getElementById("fps").value) || undefined;
  const pc = new RTCPeerConnection({ iceServers: [] });
  state.pc = pc;
  preferCodecs(pc.addTransceiver("video", { direction: "recvonly" }));
  const video = document.getElementById("video");
  pc.ontrack = (event) => { video.srcObject = event.streams[0] || new MediaStream([event.track]); video.play().catch(() => {}); };
  await pc.setLocalDescription(await pc.createOffer());
  await waitForIce(pc);
  const answer = await api("/api/webrtc/offer", { sdp: pc.localDescription.sdp, type: "offer", view, width, height, fps });
  state.viewer = answer.viewer;
  await pc.setRemoteDescription({ sdp: answer.sdp, type: answer.type });
  const m = /a=rtpmap:\d+ ([A-Za-z0-9]+)\//.exec(answer.sdp.split("m=video")[1] || "");
  state.codec = m ? m[1] : "";
  showError("");
}

// Leaving the page closes its viewer at once (else the server notices when ICE times out).
window.addEventListener("pagehide", () => {
  if (!state.viewer) return;
  fetch("/api/webrtc/close", { method: "POST", keepalive: true, body: JSON.stringify({ viewer: state.viewer }),
                                headers: { Authorization: "Bearer " + state.token, "Content-Type": "application/json" } });
});

function showStatus(status) {
  state.status = status;
  const tracking = status.cameras.map((c) => `${c.name} ${c.tracking}${c.active ? "*" : ""}`).join(" ") || "–";
  document.getElementById("readout").textContent =
    `frame ${status.frame ?? "–"} · TC ${status.timecode ?? "–"} · tracking ${tracking} · ${state.codec}` +
    (status.latency.ms.p50 !== null ? ` · ${Math.round(status.latency.ms.p50)} ms` : "");
  document.getElementById("rec").textContent = status.recording ? `● REC ${status.recording.name}` : "";
  document.getElementById("alarms").textContent =
    status.alarms.filter((a) => a.severity !== "info").map((a) => a.title).join(" · ");
}

async function poll() {
  try { showStatus(await api("/api/status")); } catch (e) { showError(String(e.message || e)); }
  await reportLatency();
}

async function main() {
  state.token = token();
  watchFrames(document.getElementById("video"));
  try {
    const { views } = await api("/api/views");
    const select = document.getElementById("view");
    for (const name of views) select.add(new Option(name, name));
    const wanted = new URLSearchParams(location.hash.slice(1));
    if (wanted.get("view")) select.value = wanted.get("view");
    const size = wanted.get("size"), sizes = document.getElementById("size");
    if (wanted.get("fps")) document.getElementById("fps").value = wanted.get("fps");
    if (size && /^\d+x\d+$/.test(size)) {
      if (![...sizes.options].some((o) => o.value === size)) sizes.add(new Option(size.replace("x", "×"), size));
      sizes.value = size;
    }
    document.getElementById("connect").onclick = () => connect().catch((e) => showError(String(e.message || e)));
    await connect();
  } catch (e) {
    showError(String(e.message || e));
  }
  setInterval(poll, 500);
}

main();
