#!/usr/bin/env bash
# Make a self-signed certificate pair for local use of the compose stack:
#   docker/make-selfsigned-cert.sh [directory] [host name]
# writes <directory>/tls.crt and tls.key (default docker/certs, localhost), which compose
# mounts read-only into nginx at /etc/nginx/certs. In production, put the real pair
# (e.g. from Let's Encrypt) in the directory named by NGINX_CERTS_DIR instead.
set -euo pipefail
dir=${1:-"$(dirname "$0")/certs"}
name=${2:-localhost}
days=${CERT_DAYS:-365}
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days "$days" \
  -subj "/CN=$name" \
  -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
  -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
# nginx's master reads the key as root; the certificate is public.
chmod 600 "$dir/tls.key"
chmod 644 "$dir/tls.crt"
echo "wrote $dir/tls.crt and $dir/tls.key for $name (valid $days days)"
