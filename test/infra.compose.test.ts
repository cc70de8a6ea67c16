import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { clusterVersions, readCompose } from '../scripts/cluster/compose';

// docker-compose.yml's monitoring, read without Docker: Prometheus scrapes what the servers export, Grafana's
// provisioned dashboard asks for metrics that exist, and every file a service mounts is in the repository.

const ROOT = path.resolve(__dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** The metric names the servers export (the contract of src/metrics/metrics.ts). */
const CONTRACT_METRICS = {
  maskline_call_action_duration_seconds: 'histogram',
  maskline_call_actions_total: 'counter',
  maskline_booking_creations_total: 'counter',
  maskline_pool_numbers: 'gauge',
  maskline_call_events_pending: 'gauge',
  maskline_number_sync_last_success_timestamp_seconds: 'gauge',
} as const;
const HISTOGRAM_SERIES = ['_bucket', '_sum', '_count'];

interface Service {
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  secrets?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  secrets?: Record<string, { environment?: string; file?: string }>;
  volumes?: Record<string, unknown>;
};
const service = (name: string) => {
  const found = compose.services[name];
  assert.ok(found, `docker-compose.yml has a ${name} service`);
  return found;
};
/** The repository file a service mounts at `target`. */
function mounted(name: string, target: string): string {
  const volume = (service(name).volumes ?? []).find((v) => v.split(':')[1] === target);
  assert.ok(volume, `${name} mounts something at ${target}`);
  return volume.split(':')[0]!.replace(/^\.\//, '');
}

/** The metric names a PromQL expression reads: the identifiers that start with maskline_. */
const metricsIn = (expr: string) => [...expr.matchAll(/\bmaskline_[a-z0-9_]+/g)].map((match) => match[0]);
function isContractMetric(name: string): boolean {
  if (name in CONTRACT_METRICS) return true;
  return HISTOGRAM_SERIES.some((suffix) => {
    const base = name.slice(0, -suffix.length);
    return name.endsWith(suffix) && CONTRACT_METRICS[base as keyof typeof CONTRACT_METRICS] === 'histogram';
  });
}

describe('docker-compose.yml', () => {
  it('mounts only files that exist in the repository, and names only declared volumes and secrets', () => {
    for (const [name, definition] of Object.entries(compose.services)) {
      for (const volume of definition.volumes ?? []) {
        const [source] = volume.split(':');
        if (source!.startsWith('./')) assert.ok(fs.existsSync(path.join(ROOT, source!)), `${name}: ${source} exists`);
        else assert.ok(compose.volumes && source! in compose.volumes, `${name}: volume ${source} is declared`);
      }
      for (const secret of definition.secrets ?? []) {
        assert.ok(compose.secrets?.[secret], `${name}: secret ${secret} is declared`);
      }
    }
  });

  it("is still read by the cluster's own reader (npm run cluster takes its versions from it)", () => {
    const versions = clusterVersions(readCompose());
    assert.match(versions.temporalUi, /^\d+\.\d+\.\d+$/);
    assert.equal(readCompose().environment('maskline-worker').MASKLINE_WORKER_METRICS_PORT, '9464');
  });

  it('gives both Maskline processes the metrics token and the worker its metrics port, checked by its healthcheck', () => {
    for (const name of ['maskline-http', 'maskline-worker']) {
      assert.match(service(name).environment?.MASKLINE_METRICS_TOKEN ?? '', /^\$\{MASKLINE_METRICS_TOKEN:\?/, name);
    }
    const worker = service('maskline-worker');
    assert.equal(worker.environment?.MASKLINE_WORKER_METRICS_PORT, '9464');
    assert.ok(
      worker.healthcheck?.test.some((part) => part.includes("'http://localhost:9464/healthz'")),
      JSON.stringify(worker.healthcheck),
    );
  });

  it("has Prometheus scrape the HTTP server's /metrics with the bearer token, and the worker's port", () => {
    const prometheus = service('prometheus');
    const config = parse(read(mounted('prometheus', '/etc/prometheus/prometheus.yml'))) as {
      scrape_configs: {
        job_name: string;
        metrics_path?: string;
        authorization?: { type?: string; credentials_file?: string };
        static_configs: { targets: string[] }[];
      }[];
    };
    const job = (target: string) => {
      const found = config.scrape_configs.find((c) => c.static_configs.some((s) => s.targets.includes(target)));
      assert.ok(found, `a scrape job for ${target}`);
      return found;
    };
    const http = job('maskline-http:3000');
    assert.equal(http.metrics_path ?? '/metrics', '/metrics');
    assert.equal(http.authorization?.type ?? 'Bearer', 'Bearer');
    // The token file is the compose secret made from MASKLINE_METRICS_TOKEN, mounted at /run/secrets/<name>.
    const secret = path.posix.basename(http.authorization?.credentials_file ?? '');
    assert.equal(path.posix.dirname(http.authorization?.credentials_file ?? ''), '/run/secrets');
    assert.ok(prometheus.secrets?.includes(secret), `prometheus mounts the secret ${secret}`);
    assert.equal(compose.secrets?.[secret]?.environment, 'MASKLINE_METRICS_TOKEN');
    assert.equal(job('maskline-worker:9464').metrics_path ?? '/metrics', '/metrics');
  });

  it("provisions Grafana's Prometheus datasource and a dashboard of pool, creations, call-action p95 and events", () => {
    const datasources = parse(read(mounted('grafana', '/etc/grafana/provisioning/datasources/maskline.yml'))) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    const [datasource] = datasources.datasources;
    assert.equal(datasource?.type, 'prometheus');
    assert.equal(datasource?.url, 'http://prometheus:9090');

    const providers = parse(read(mounted('grafana', '/etc/grafana/provisioning/dashboards/maskline.yml'))) as {
      providers: { options: { path: string } }[];
    };
    const folder = providers.providers[0]?.options.path ?? '';
    const dashboardMount = (service('grafana').volumes ?? []).find((v) => v.split(':')[1]?.startsWith(`${folder}/`));
    assert.ok(dashboardMount, `a dashboard file is mounted under ${folder}`);
    const dashboard = JSON.parse(read(dashboardMount.split(':')[0]!)) as {
      panels: {
        title: string;
        datasource: { uid: string };
        targets: { expr: string; datasource: { uid: string } }[];
      }[];
    };

    const used = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => metricsIn(target.expr)));
    assert.deepEqual(
      used.filter((name) => !isContractMetric(name)),
      [],
      'every metric the dashboard asks for is exported',
    );
    for (const wanted of [
      'maskline_pool_numbers',
      'maskline_booking_creations_total',
      'maskline_call_action_duration_seconds_bucket',
      'maskline_call_events_pending',
    ]) {
      assert.ok(used.includes(wanted), `the dashboard shows ${wanted}`);
    }
    assert.ok(
      dashboard.panels.some((panel) => panel.targets.some((t) => /histogram_quantile\(0\.95,/.test(t.expr))),
      'the call-action p95 is a histogram_quantile',
    );
    for (const panel of dashboard.panels) {
      assert.equal(panel.datasource.uid, datasource?.uid, panel.title);
      for (const target of panel.targets) assert.equal(target.datasource.uid, datasource?.uid, panel.title);
    }
  });

  it('wires the Temporal UI to the codec endpoint through a proxy that adds the codec token', () => {
    const ui = service('temporal-ui');
    const endpoint = new URL(ui.environment?.TEMPORAL_CODEC_ENDPOINT ?? 'http://missing');
    const proxy = service('temporal-codec-proxy');
    // The browser calls it: it must be the proxy's published (loopback) port.
    assert.ok(proxy.ports?.includes(`${endpoint.hostname}:${endpoint.port}:8081`), JSON.stringify(proxy.ports));
    assert.equal(endpoint.pathname, '/codec');
    const template = read(mounted('temporal-codec-proxy', '/etc/nginx/templates/default.conf.template'));
    assert.match(template, /location = \/codec\/decode \{\s*proxy_pass http:\/\/maskline-http:3000\/codec\/decode;/);
    assert.match(template, /proxy_set_header Authorization "Bearer \$\{MASKLINE_CODEC_TOKEN\}";/);
    assert.match(proxy.environment?.MASKLINE_CODEC_TOKEN ?? '', /^\$\{MASKLINE_CODEC_TOKEN:\?/);
    const http = service('maskline-http').environment ?? {};
    assert.equal(http.MASKLINE_CODEC_TOKEN, proxy.environment?.MASKLINE_CODEC_TOKEN);
    const uiPort = (ui.ports ?? [])[0]?.split(':').slice(-2, -1)[0];
    assert.ok(
      (http.MASKLINE_CODEC_CORS_ORIGINS ?? '').split(',').includes(`http://127.0.0.1:${uiPort}`),
      "the codec answers CORS for the UI's origin",
    );
  });
});
