#!/usr/bin/env bash
# agent.sh [OPTIONS] HOST COMMAND...: Open MPI's remote-launch agent (--mca plm_rsh_agent) for
# hosts emulated with network namespaces. Where ssh would log in to HOST, it enters HOST's
# network namespace with a UTS namespace of its own (so the host has its own name), and runs
# COMMAND through a shell with a clean environment, as ssh would.
#
# $RANKS_MULTIHOST_MAP names a file of "ADDRESS NAMESPACE HOSTNAME" lines.
set -eu
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done   # ssh-style options: none apply
[ $# -ge 2 ] || { echo "usage: agent.sh [OPTIONS] HOST COMMAND..." >&2; exit 255; }
host=$1
shift
read -r _ ns name < <(grep -m1 -- "^$host " "${RANKS_MULTIHOST_MAP:?}") ||
  { echo "agent.sh: unknown host $host" >&2; exit 255; }
exec ip netns exec "$ns" unshare --uts \
  env -i PATH="$PATH" HOME="${HOME:-/root}" \
  /bin/sh -c 'hostname "$1" && shift && exec /bin/sh -c "$*"' agent "$name" "$@"
