#!/bin/sh
# Makes sure the namespace exists and that Maskline's search attributes are registered on it. Idempotent.
set -eu

namespace="${TEMPORAL_NAMESPACE:-default}"

until temporal operator cluster health >/dev/null 2>&1; do
  echo 'waiting for the Temporal server'
  sleep 2
done

if ! temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
  temporal operator namespace create --namespace "$namespace" --retention "${TEMPORAL_NAMESPACE_RETENTION:-7d}"
  echo "created namespace $namespace"
fi

# The namespace may take a moment to be visible to every service after it is created.
until temporal operator search-attribute list --namespace "$namespace" >/dev/null 2>&1; do
  sleep 1
done

# name:type, as scripts/local/temporal.ts SEARCH_ATTRIBUTES names them for the dev server.
for entry in BookingStatus:Keyword VirtualNumber:Keyword BookingPartyRoles:KeywordList; do
  name="${entry%%:*}"
  type="${entry#*:}"
  if temporal operator search-attribute list --namespace "$namespace" | grep -qw "$name"; then
    echo "search attribute $name already registered"
  else
    temporal operator search-attribute create --namespace "$namespace" --name "$name" --type "$type"
    echo "registered search attribute $name ($type)"
  fi
done
