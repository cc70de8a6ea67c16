// The operators' dashboard: polls GET /v1/operations/summary and draws it. Only textContent and SVG elements
// built here go into the page (no innerHTML), and the summary holds counts, never a phone number.
/* global document, window, sessionStorage, fetch */
'use strict';

const KEY_STORAGE = 'maskline.apiKey';
const POLL_MS = 5000;
const SVG = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);

function figure(name, value, root = document) {
  const element = root.querySelector(`[data-figure="${name}"]`);
  if (element) element.textContent = value;
}

function svgElement(name, attributes, parent) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  parent.appendChild(element);
  return element;
}

function clear(element) {
  while (element.firstChild) element.removeChild(element.firstChild);
}

const seconds = (value) =>
  value === null ? 'unknown' : value < 1 ? `${Math.round(value * 1000)} ms` : `${value.toFixed(2)} s`;
const percent = (value) => (value === null ? 'unknown' : `${(value * 100).toFixed(1)} %`);
const count = (value) => (value === null || value === undefined ? 'unknown' : String(value));

function age(iso, now) {
  if (!iso) return 'never';
  const minutes = Math.round((now - Date.parse(iso)) / 60000);
  if (minutes < 1) return 'just now';
  if (minutes < 120) return `${minutes} min ago`;
  return `${Math.round(minutes / 60)} h ago`;
}

function drawSparkline(perMinute) {
  const svg = $('sparkline');
  clear(svg);
  if (!perMinute || perMinute.length === 0) return;
  const max = Math.max(1, ...perMinute.map((m) => m.count));
  const step = 150 / Math.max(1, perMinute.length - 1);
  const points = perMinute.map((m, i) => `${(i * step).toFixed(1)},${(38 - (m.count / max) * 34).toFixed(1)}`);
  svgElement('polyline', { class: 'spark', points: points.join(' ') }, svg);
  const last = perMinute.length - 1;
  svgElement('circle', { class: 'held', cx: last * step, cy: 38 - (perMinute[last].count / max) * 34, r: 2.5 }, svg);
}

function drawGauge(p95, budget, storeTimeout) {
  const svg = $('gauge');
  clear(svg);
  svgElement('rect', { class: 'track', x: 0, y: 4, width: 150, height: 16, rx: 3 }, svg);
  if (p95 !== null) {
    const share = Math.min(1, p95 / budget);
    const level = share < 0.5 ? 'ok' : share < 1 ? 'warn' : 'bad';
    svgElement('rect', { class: level, x: 0, y: 4, width: Math.max(1, share * 150), height: 16, rx: 3 }, svg);
  }
  const x = Math.min(150, (storeTimeout / budget) * 150);
  svgElement('line', { class: 'marker', x1: x, x2: x, y1: 0, y2: 24 }, svg);
}

function drawHeadroom(countries) {
  const container = $('headroom');
  clear(container);
  if (countries.length === 0) {
    const empty = document.createElement('p');
    empty.className = 'small';
    empty.textContent = 'The pool has no numbers.';
    container.appendChild(empty);
    return;
  }
  const widest = Math.max(1, ...countries.map((c) => c.free + c.held + c.unavailable));
  for (const country of countries) {
    const row = document.createElement('div');
    row.className = 'country';
    row.dataset.country = country.country ?? 'none';
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = country.country ?? '—';
    row.appendChild(name);

    const bar = document.createElementNS(SVG, 'svg');
    bar.setAttribute('viewBox', '0 0 300 18');
    bar.setAttribute('preserveAspectRatio', 'none');
    bar.setAttribute('role', 'img');
    bar.setAttribute('aria-label', `${country.free} free, ${country.held} held, ${country.unavailable} unavailable`);
    let x = 0;
    for (const part of ['free', 'held', 'unavailable']) {
      const width = (country[part] / widest) * 300;
      if (width > 0) svgElement('rect', { class: part, x, y: 0, width, height: 18 }, bar);
      x += width;
    }
    row.appendChild(bar);

    const facts = document.createElement('p');
    facts.className = country.partiesAtCapacity > 0 ? 'facts full' : 'facts';
    const parts = [
      ['', 'free', ' free · '],
      ['', 'held', ' held · '],
      ['', 'unavailable', ' unavailable · '],
      ['', 'liveBookings', ' live bookings · '],
      ['people at capacity: ', 'partiesAtCapacity', ' · '],
      ['the busiest person has room for ', 'busiestPartyRoom', ' more'],
    ];
    for (const [before, key, after] of parts) {
      facts.appendChild(document.createTextNode(before));
      const value = document.createElement('span');
      value.dataset.figure = key;
      value.textContent = String(country[key]);
      facts.appendChild(value);
      facts.appendChild(document.createTextNode(after));
    }
    row.appendChild(facts);
    container.appendChild(row);
  }
}

function show(summary) {
  const now = Date.parse(summary.generatedAt);
  const { bookings, callActions, callEvents, numberSync } = summary;
  figure('bookings.active', count(bookings.active));
  figure('bookings.completing', count(bookings.completing));
  const perMinute = bookings.createdPerMinute;
  figure('bookings.thisMinute', perMinute ? count(perMinute[perMinute.length - 1].count) : 'unknown');
  figure('bookings.created15m', perMinute ? count(perMinute.reduce((sum, m) => sum + m.count, 0)) : 'unknown');
  drawSparkline(perMinute);
  figure('bookings.refusedLastHour', count(bookings.refusedLastHour));
  figure('calls.p95', seconds(callActions.p95Seconds));
  figure('calls.budget', seconds(callActions.budgetSeconds));
  figure('calls.storeTimeout', seconds(callActions.storeTimeoutSeconds));
  drawGauge(callActions.p95Seconds, callActions.budgetSeconds, callActions.storeTimeoutSeconds);
  figure('calls.noticeRate', percent(callActions.noticeRate));
  figure('calls.window', `${Math.max(1, Math.round(callActions.windowSeconds / 60))} min`);
  figure('callEvents.pending', count(callEvents.pending));
  figure('numberSync.age', numberSync ? age(numberSync.lastSuccessAt, now) : 'unknown');
  figure(
    'numberSync.status',
    numberSync && numberSync.lastRunStatus ? `last run ${numberSync.lastRunStatus}` : 'no run recorded',
  );
  drawHeadroom(summary.pool.countries);
  const status = $('status');
  status.className = 'status';
  status.textContent = `updated ${new Date(now).toLocaleTimeString()}`;
  status.dataset.generatedAt = summary.generatedAt;
}

let timer = null;

function signIn(message) {
  if (timer !== null) window.clearTimeout(timer);
  timer = null;
  sessionStorage.removeItem(KEY_STORAGE);
  $('figures').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message;
  $('status').textContent = '';
  $('api-key').focus();
}

async function poll() {
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (!key) return signIn('');
  try {
    const response = await fetch('/v1/operations/summary', {
      headers: { authorization: `Bearer ${key}` },
      cache: 'no-store',
      credentials: 'omit',
    });
    if (response.status === 401) return signIn('That key was refused.');
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    $('sign-in').hidden = true;
    $('figures').hidden = false;
    $('sign-out').hidden = false;
    show(await response.json());
  } catch (error) {
    const status = $('status');
    status.className = 'status stale';
    status.textContent = `stale: ${error instanceof Error ? error.message : String(error)}`;
  }
  timer = window.setTimeout(poll, POLL_MS);
}

document.addEventListener('DOMContentLoaded', () => {
  $('sign-in').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, $('api-key').value.trim());
    $('api-key').value = '';
    void poll();
  });
  $('sign-out').addEventListener('click', () => signIn(''));
  void poll();
});
