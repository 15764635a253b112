#!/bin/sh
# Runs as root INSIDE the sandbox image's root filesystem, in both build paths:
#   offline:  chroot <rootfs> /bin/sh /tmp/samokoder-harden.sh   (scripts/sandbox-image.mjs)
#   registry: RUN sh /tmp/samokoder-harden.sh                      (sandbox/image/Dockerfile.registry)
# It is part of the image recipe: editing it changes the recipe hash and so the image tag.
set -eu

SANDBOX_UID=10001
SANDBOX_GID=10001

# The official node image ships a uid-1000 'node' user; the sandbox has exactly one user.
if getent passwd node >/dev/null 2>&1; then userdel --remove node 2>/dev/null || userdel node; fi
if getent group node >/dev/null 2>&1; then groupdel node || true; fi

getent group sandbox >/dev/null 2>&1 || groupadd --gid "$SANDBOX_GID" sandbox
getent passwd sandbox >/dev/null 2>&1 || useradd --uid "$SANDBOX_UID" --gid "$SANDBOX_GID" \
  --create-home --home-dir /home/sandbox --shell /bin/sh --comment 'Samokoder sandbox' sandbox
passwd --lock sandbox >/dev/null 2>&1 || true
passwd --lock root >/dev/null 2>&1 || true
install -d -o "$SANDBOX_UID" -g "$SANDBOX_GID" -m 0755 /workspace
chown -R "$SANDBOX_UID:$SANDBOX_GID" /home/sandbox

# No privilege-raising tools: no sudo, and no setuid/setgid bits anywhere (su, mount, passwd,
# chsh, newgrp, unix_chkpwd ... keep working for root but cannot raise a normal user).
if dpkg -s sudo >/dev/null 2>&1; then dpkg --purge sudo; fi
find / -xdev -perm /6000 -type f -exec chmod a-s {} +

# Keep future apt installs in the image small too.
mkdir -p /etc/dpkg/dpkg.cfg.d
cat > /etc/dpkg/dpkg.cfg.d/01-samokoder-nodoc <<'NODOC'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
NODOC

# Slim down: apt caches and lists, docs (licences kept), man pages, translations, logs.
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old /var/lib/dpkg/*-old \
  /usr/share/man/* /usr/share/info/* /usr/share/lintian /usr/share/linda \
  /root/.cache /root/.npm /tmp/* /var/tmp/*
find /usr/share/doc -depth -type f ! -name copyright -delete 2>/dev/null || true
find /usr/share/doc -depth -type d -empty -delete 2>/dev/null || true
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
find /var/log -type f -delete 2>/dev/null || true
