#!/bin/sh
# Makes the cluster's TLS material with openssl: a CA, one certificate for the silos (names and addresses of
# docker-compose.yml's silos, and of loopback), and one client certificate. Run by docker-compose's `certs` service into a
# volume the silos mount; copies the CA and the client certificate to a second folder for clients on the host.
#   make-certs.sh OUT_DIR [HOST_DIR] [SILO_UID] [HOST_UID]
# Private keys are written owner-only (the silos and clients refuse keys other users can read).
set -eu
out=${1:?usage: make-certs.sh OUT_DIR [HOST_DIR] [SILO_UID] [HOST_UID]}
host=${2:-}
silo_uid=${3:-1654}
host_uid=${4:-0}
command -v openssl >/dev/null 2>&1 || apk add --no-cache openssl >/dev/null
mkdir -p "$out"
cd "$out"
if [ ! -f ca.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 -subj "/CN=OssOrleans cluster CA" \
    -keyout ca.key -out ca.pem -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  chmod 600 ca.key
fi
issue() { # name subject-alt-names
  [ -f "$1.pem" ] && return 0
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=ossorleans-$1" -keyout "$1.key" -out "$1.csr"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$2" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 -extfile "$1.ext" -out "$1.pem"
  rm -f "$1.csr" "$1.ext"
  chmod 600 "$1.key"
}
issue silo "DNS:silo1,DNS:silo2,DNS:silo3,DNS:localhost,IP:172.28.0.11,IP:172.28.0.12,IP:172.28.0.13,IP:127.0.0.1"
issue client "DNS:ossorleans-client"
chown "$silo_uid" silo.key silo.pem ca.pem
chmod 644 silo.pem ca.pem
if [ -n "$host" ]; then
  mkdir -p "$host"
  cp ca.pem client.pem client.key "$host"/
  chown "$host_uid" "$host"/ca.pem "$host"/client.pem "$host"/client.key
  chmod 600 "$host"/client.key
fi
echo "certificates ready in $out"
