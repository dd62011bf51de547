#!/bin/sh
# Checks (and, as root with apt, installs) the system packages Cloudlet's engines use.
# Each missing package is named with what it is for; nothing here is fatal for the core.
set -u
missing=""
PATH="$PATH:/usr/sbin:/sbin"  # mariadbd lives in /usr/sbin
need() {  # need <command> <debian package> <what for>
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "sysdeps: installing $2 ($3)"
    { apt-get install -y -q "$2" >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$2" >/dev/null 2>&1; }; } && command -v "$1" >/dev/null 2>&1 && return 0
  fi
  echo "sysdeps: '$1' not found: install the Debian package $2 for $3" >&2
  missing="$missing $2"
}
need wrk wrk "the gateway benchmark's load client (bench/gateway.py)"
need chromium chromium "the S3 CORS test from a real browser (tests/e2e/s3/test_cors_browser.py)"
need chromedriver chromium-driver "driving headless Chromium in the S3 CORS test"
need mariadbd mariadb-server "RDS's mysql and mariadb engines (cloudlet/engines/db/mariadb.py)"
need node nodejs "Lambda's nodejs* runtimes (cloudlet/engines/lambda_/)"
need unshare util-linux "Lambda's sandboxes: mount namespaces, setpriv (cloudlet/engines/lambda_/)"
need nft nftables "the VPC fabric: libnftables.so.1 for security groups, ACLs and NAT (cloudlet/engines/network/)"
need ip iproute2 "the VPC fabric and instance sandboxes: network namespaces (cloudlet/engines/network/)"
need mmdebstrap mmdebstrap "building EC2 images from Debian's packages (cloudlet/engines/images/)"
need ssh openssh-client "the EC2 tests: ssh into instances, as users do (tests/e2e/ec2/)"
need ssh-keygen openssh-client "EC2 key pairs in OpenSSH format (cloudlet/services/ec2/)"
if ! ls /usr/lib/*/libseccomp.so.2 /lib/*/libseccomp.so.2 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "sysdeps: installing libseccomp2 (seccomp filters of instance sandboxes)"
    apt-get install -y -q libseccomp2 >/dev/null 2>&1
  fi
  ls /usr/lib/*/libseccomp.so.2 /lib/*/libseccomp.so.2 >/dev/null 2>&1 || {
    echo "sysdeps: libseccomp.so.2 not found: install the Debian package libseccomp2 for instance sandboxes (cloudlet/engines/sandbox/seccomp.py)" >&2
    missing="$missing libseccomp2"; }
fi
[ -z "$missing" ] || echo "sysdeps: continuing without:$missing" >&2
exit 0
