#!/usr/bin/env bash
# The pod network of a kind cluster's nodes: the job kindnetd does in kind's own node images.
# (kindnetd is a nested module of kind's repository that the Go module proxy does not serve.)
#
# On its node, this agent keeps, every INTERVAL seconds:
#   - a CNI config for the node's pod range (ptp + host-local + portmap, the plugins kind ships);
#   - a route to every other node's pod range through that node's address;
#   - masquerading for traffic from pods that leaves the pod network (registry, git server, ...).
# It runs as a DaemonSet on the host network (default-cni.yaml) and reaches the API server at
# CONTROL_PLANE_ENDPOINT, which kind sets, so it needs neither the pod network nor kube-proxy.
set -uo pipefail
: "${NODE_NAME:?NODE_NAME, the spec.nodeName of this pod, is not set}"
: "${POD_SUBNET:?POD_SUBNET, the networking.podSubnet of the kind config, is not set}"
CNI_CONFIG=${CNI_CONFIG:-/etc/cni/net.d/10-kindnet.conflist}
INTERVAL=${INTERVAL:-10}
ACCOUNT=/var/run/secrets/kubernetes.io/serviceaccount

log() { echo "kind-network-agent: $*"; }

# The service account's token stays in its file: kubectl reads it from there (tokenFile).
export KUBECONFIG=/tmp/kind-network-agent.kubeconfig
server=https://${CONTROL_PLANE_ENDPOINT:-$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT}
cat >"$KUBECONFIG" <<CONFIG
apiVersion: v1
kind: Config
clusters: [{name: cluster, cluster: {server: "$server", certificate-authority: $ACCOUNT/ca.crt}}]
users: [{name: agent, user: {tokenFile: $ACCOUNT/token}}]
contexts: [{name: agent, context: {cluster: cluster, user: agent}}]
current-context: agent
CONFIG

mtu() {
  local device
  device=$(ip -o route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
  cat "/sys/class/net/${device:-eth0}/mtu" 2>/dev/null || echo 1500
}

write_cni_config() {  # $1: this node's pod range
  local wanted
  wanted=$(cat <<JSON
{
  "cniVersion": "0.4.0",
  "name": "kindnet",
  "plugins": [
    {
      "type": "ptp",
      "ipMasq": false,
      "mtu": $(mtu),
      "ipam": {
        "type": "host-local",
        "dataDir": "/run/cni-ipam-state",
        "routes": [{"dst": "0.0.0.0/0"}],
        "ranges": [[{"subnet": "$1"}]]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
)
  if [ "$(cat "$CNI_CONFIG" 2>/dev/null)" != "$wanted" ]; then
    # Written beside and renamed: the runtime never reads half a file.
    printf '%s\n' "$wanted" >"$CNI_CONFIG.tmp" && mv "$CNI_CONFIG.tmp" "$CNI_CONFIG"
    log "wrote $CNI_CONFIG for pod range $1"
  fi
}

route_to_other_nodes() {
  local name range address _
  kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.podCIDR}{" "}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}' |
    while read -r name range address _; do
      if [ "$name" != "$NODE_NAME" ] && [ -n "$range" ] && [ -n "$address" ]; then
        ip route replace "$range" via "$address"
      fi
    done
}

ensure_rule() {  # table chain rule...: append the rule unless it is there
  local table=$1 chain=$2
  shift 2
  iptables -t "$table" -C "$chain" "$@" 2>/dev/null || iptables -t "$table" -A "$chain" "$@"
}

masquerade() {
  iptables -t nat -N KIND-NETWORK-MASQ 2>/dev/null || true
  ensure_rule nat KIND-NETWORK-MASQ -d "$POD_SUBNET" -j RETURN
  ensure_rule nat KIND-NETWORK-MASQ -j MASQUERADE
  ensure_rule nat POSTROUTING -s "$POD_SUBNET" -m addrtype ! --dst-type LOCAL \
    -m comment --comment "kind-network-agent: pods leaving the pod network" -j KIND-NETWORK-MASQ
}

log "node $NODE_NAME, pod network $POD_SUBNET, API server $server"
while true; do
  if range=$(kubectl get node "$NODE_NAME" -o jsonpath='{.spec.podCIDR}') && [ -n "$range" ]; then
    write_cni_config "$range"
  else
    log "node $NODE_NAME has no pod range yet"
  fi
  route_to_other_nodes || log "could not list the nodes; routes unchanged"
  masquerade || log "could not set the masquerade rules"
  sleep "$INTERVAL"
done
