#!/usr/bin/env node
// Validates rendered Kubernetes manifests (`kubectl kustomize` output, YAML documents on stdin,
// parsed with npm `yaml`) against the Kubernetes API schemas of
// npm `kubernetes-models` (the ServiceMonitor against `@kubernetes-models/prometheus-operator`),
// then checks what every overlay must hold (tests/e2e/manifests.sh lists it).
//   kubectl kustomize deploy/k8s/overlays/prod | node tests/e2e/validate_manifests.js prod
// <overlay> is dev, single, prod or base (base: schemas and pod hardening only). Exits 1 with
// one line per problem; an object whose apiVersion/kind has no model is a problem too, not a
// skip. The schemas check types, enums and required fields; like the API server's non-strict
// mode they do not reject unknown field names.
'use strict';

const fs = require('fs');
const YAML = require('yaml');

function modelFor(apiVersion, kind) {
  if (!/^[A-Za-z0-9.\/-]+$/.test(apiVersion) || !/^[A-Za-z]+$/.test(kind)) return null;
  const modulePath = apiVersion.startsWith('monitoring.coreos.com/')
    ? `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`
    : `kubernetes-models/${apiVersion}/${kind}`;
  try {
    return require(modulePath)[kind];
  } catch (e) {
    if (e.code === 'MODULE_NOT_FOUND') return null;
    throw e;
  }
}

// "310s", "5m10s", "1h" -> seconds.
function durationSeconds(text) {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0, used = 0, m;
  while ((m = re.exec(text)) !== null) {
    total += parseFloat(m[1]) * {ms: 0.001, s: 1, m: 60, h: 3600}[m[2]];
    used += m[0].length;
  }
  return used === text.length && used > 0 ? total : NaN;
}

function argValue(args, flag) {
  const prefix = `--${flag}=`;
  const hit = args.filter((a) => a.startsWith(prefix));
  return hit.length ? hit[hit.length - 1].slice(prefix.length) : undefined;
}

function checkWorkload(obj, problems) {
  const where = `${obj.kind}/${obj.metadata.name}`;
  const pod = obj.spec.template.spec;
  const psc = pod.securityContext || {};
  if (psc.runAsNonRoot !== true) problems.push(`${where}: pod securityContext.runAsNonRoot is not true`);
  if (pod.automountServiceAccountToken !== false) {
    problems.push(`${where}: automountServiceAccountToken is not false`);
  }
  const mounts = new Set();
  for (const c of pod.containers) {
    const cw = `${where} container ${c.name}`;
    const sc = c.securityContext || {};
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${cw}: readOnlyRootFilesystem is not true`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${cw}: allowPrivilegeEscalation is not false`);
    if (!((sc.capabilities || {}).drop || []).includes('ALL')) problems.push(`${cw}: capabilities do not drop ALL`);
    for (const e of c.env || []) {
      if (e.valueFrom && e.valueFrom.secretKeyRef) problems.push(`${cw}: secret ${e.valueFrom.secretKeyRef.name} in env ${e.name} (mount it as a file)`);
    }
    for (const e of c.envFrom || []) {
      if (e.secretRef) problems.push(`${cw}: secret ${e.secretRef.name} in envFrom (mount it as a file)`);
    }
    for (const probe of ['livenessProbe', 'readinessProbe']) {
      if (!c[probe] || !c[probe].grpc) problems.push(`${cw}: ${probe} is not a native gRPC probe`);
    }
    for (const m of c.volumeMounts || []) {
      if (m.subPath) problems.push(`${cw}: volume ${m.name} mounted with subPath (never updated on a Secret change)`);
      mounts.add(m.mountPath);
    }
    const args = c.args || [];
    // Every file flag names a file inside a mounted volume.
    for (const a of args) {
      const m = /^--([a-z_]+_file)=(.+)$/.exec(a);
      if (m && ![...mounts].some((dir) => m[2].startsWith(dir.replace(/\/?$/, '/')))) {
        problems.push(`${cw}: --${m[1]}=${m[2]} is in no mounted volume`);
      }
    }
    const drain = durationSeconds(argValue(args, 'drain_grace') || '310s');
    const grace = pod.terminationGracePeriodSeconds === undefined ? 30 : pod.terminationGracePeriodSeconds;
    if (!(grace > drain)) problems.push(`${where}: terminationGracePeriodSeconds ${grace} is not longer than --drain_grace (${drain} s)`);
    if (!c.resources || !c.resources.requests || !c.resources.limits) problems.push(`${cw}: no resource requests and limits`);
  }
}

function gatewayArgs(workload) {
  return workload.spec.template.spec.containers.find((c) => c.name === 'gateway').args || [];
}

// What each overlay promises (deploy/README.md).
function checkOverlay(overlay, objects, problems) {
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
  if (workloads.length !== 1) {
    problems.push(`${overlay}: ${workloads.length} workloads, expected 1`);
    return;
  }
  const w = workloads[0];
  const args = gatewayArgs(w);
  const secretVolumes = w.spec.template.spec.volumes.filter((v) => v.secret);
  const need = (cond, what) => { if (!cond) problems.push(`${overlay}: ${what}`); };
  if (overlay === 'dev') {
    need(w.kind === 'Deployment' && w.spec.replicas === 1, 'not a one-replica Deployment');
    need(args.includes('--simulate'), 'no --simulate');
    need(secretVolumes.length === 0, 'mounts a Secret (dev applies without any)');
    need(w.spec.template.spec.volumes.some((v) => v.name === 'data' && v.emptyDir), 'data is not an emptyDir');
  } else if (overlay === 'single') {
    need(w.kind === 'StatefulSet' && w.spec.replicas === 1, 'not a one-replica StatefulSet');
    need((w.spec.volumeClaimTemplates || []).some((t) => t.metadata.name === 'data'), 'no data volume claim');
    need(argValue(args, 'store') === undefined || argValue(args, 'store') === 'sqlite', 'not on SQLite');
    need(argValue(args, 'dashscope_api_key_file') !== undefined, 'no --dashscope_api_key_file');
    need(!args.includes('--simulate'), 'runs --simulate');
  } else if (overlay === 'prod') {
    need(w.kind === 'Deployment' && w.spec.replicas === undefined, 'not a Deployment whose replicas the autoscaler sets');
    for (const [flag, value] of [['store', 'postgres'], ['image_store', 's3']]) {
      need(argValue(args, flag) === value, `not --${flag}=${value}`);
    }
    for (const flag of ['postgres_dsn_file', 's3_credentials_file', 'dashscope_api_key_file', 'tokens_file']) {
      need(argValue(args, flag) !== undefined, `no --${flag}`);
    }
    need(!args.includes('--simulate'), 'runs --simulate');
    need((w.spec.template.spec.topologySpreadConstraints || []).length > 0, 'no topologySpreadConstraints');
    const hpa = byKind('HorizontalPodAutoscaler');
    need(hpa.length === 1 && hpa[0].spec.scaleTargetRef.name === w.metadata.name && hpa[0].spec.minReplicas >= 2,
      'no HorizontalPodAutoscaler of the Deployment with minReplicas >= 2');
    need(byKind('PodDisruptionBudget').length === 1, 'no PodDisruptionBudget');
    need(byKind('ServiceMonitor').length === 1, 'no ServiceMonitor');
    need(byKind('Service').some((s) => s.spec.clusterIP === 'None'), 'no headless Service');
    const np = byKind('NetworkPolicy');
    need(np.length === 1 && ['Ingress', 'Egress'].every((t) => np[0].spec.policyTypes.includes(t)),
      'no NetworkPolicy for both ingress and egress');
    if (np.length === 1) {
      const ports = new Set(np[0].spec.ingress.flatMap((r) => (r.ports || []).map((p) => p.port)));
      need(ports.size === 2 && ports.has(50051) && ports.has(9090), 'ingress is not exactly the gRPC and metrics ports');
      need(np[0].spec.ingress.every((r) => (r.ports || []).length > 0), 'an ingress rule admits every port');
    }
  }
}

function main() {
  const overlay = process.argv[2];
  if (!['base', 'dev', 'single', 'prod'].includes(overlay)) {
    console.error('usage: validate_manifests.js base|dev|single|prod < rendered.yaml');
    process.exit(2);
  }
  const docs = YAML.parseAllDocuments(fs.readFileSync(0, 'utf8'));
  const broken = docs.flatMap((d) => d.errors);
  if (broken.length) {
    for (const e of broken) console.log(`manifests: ${overlay}: YAML: ${e.message}`);
    process.exit(1);
  }
  const objects = docs.map((d) => d.toJSON()).filter((o) => o !== null);
  const problems = [];
  for (const obj of objects) {
    const where = `${obj.apiVersion}/${obj.kind} ${(obj.metadata || {}).name}`;
    const Model = modelFor(String(obj.apiVersion), String(obj.kind));
    if (!Model) {
      problems.push(`${where}: no schema for this apiVersion/kind`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (e) {
      problems.push(`${where}: ${e.message}`);
      continue;
    }
    if (obj.kind === 'Deployment' || obj.kind === 'StatefulSet') checkWorkload(obj, problems);
  }
  if (problems.length === 0) checkOverlay(overlay, objects, problems);
  for (const p of problems) console.log(`manifests: ${overlay}: ${p}`);
  if (problems.length) process.exit(1);
  const kinds = objects.map((o) => o.kind).join(', ');
  console.log(`manifests: ${overlay}: ${objects.length} objects valid (${kinds})`);
}

main();
