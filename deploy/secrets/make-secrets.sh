#!/bin/sh
# Makes the compose hub's secrets (once): the database password, the metrics and operator
# tokens (their SHA-256 go to the nodes' environment, the tokens themselves stay here), and
# passerelle.env. Nothing here is committed (.gitignore).
set -eu
cd "$(dirname "$0")"
umask 077
[ -f db-password ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' > db-password
[ -f metrics-token ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' > metrics-token
[ -f operator-token ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' > operator-token
sha() { printf %s "$(cat "$1")" | sha256sum | cut -d' ' -f1; }
cat > passerelle.env <<ENV
PASSERELLE_DB_URL=postgres://passerelle:$(cat db-password)@postgres:5432/passerelle
PASSERELLE_METRICS_TOKEN_SHA256=$(sha metrics-token)
PASSERELLE_OPERATOR_TOKEN_SHA256=$(sha operator-token)
ENV
echo "secrets in $(pwd); operator token: $(cat operator-token)"
