#!/bin/busybox sh
# /init of the initramfs that scripts/test-kernels.sh builds (busybox from Debian's busybox-static).
#
# Loads the 9p/virtio/overlay modules listed in /modules/load (in dependency order), mounts the
# host's root filesystem (9p tag hostroot, read-only) under a tmpfs overlay so the guest can write
# anywhere (writes are lost at power-off), mounts the tree's ext4 image (/dev/vda) and the host's
# results directory (9p tag results,
# read-write) at the same path it has on the host, brings lo up and runs guest-run.sh from the
# snapshot of the tree in a chroot. The exit status goes to <results>/guest.rc, then the VM powers
# itself off. Kernel command line: uring_probe_tree=<dir> (the snapshot of the tree) and
# uring_probe_results=<dir> (where the results share is mounted; guest-run.sh reads its plan there).
/bin/busybox --install -s /bin
export PATH=/bin

say() { echo "uring-probe-init: $*"; }
off() {
  sync
  poweroff -f
  echo o > /proc/sysrq-trigger
  sleep 5
}
die() { say "FAIL: $*"; off; }

mkdir -p /proc /sys /dev /lower /rw /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

tree=""
results=""
for word in $(cat /proc/cmdline); do
  case "$word" in
    uring_probe_tree=*) tree="${word#uring_probe_tree=}" ;;
    uring_probe_results=*) results="${word#uring_probe_results=}" ;;
  esac
done
[ -n "$tree" ] && [ -n "$results" ] || die "uring_probe_tree= or uring_probe_results= missing on the kernel command line"

say "kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print int($2/1024) " MiB"}' /proc/meminfo)"
for m in $(cat /modules/load); do
  insmod "/modules/$m.ko" || die "insmod $m failed"
done

opts="trans=virtio,version=9p2000.L,msize=512000"
mount -t 9p -o "$opts,ro,cache=loose" hostroot /lower || die "cannot mount the host's root over 9p (tag hostroot)"
mount -t tmpfs -o mode=755 tmpfs /rw || die "cannot mount tmpfs"
mkdir -p /rw/upper /rw/work
if ! mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot; then
  # No overlay: the read-only root, with tmpfs where tests write.
  say "overlay over 9p refused; read-only root with tmpfs on /tmp, /run, /root, /var/tmp"
  mount --bind /lower /newroot
  for d in /tmp /run /root /var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "/newroot$d"; done
fi
r=/newroot
mount -t proc proc $r/proc
mount -t sysfs sysfs $r/sys
mount -t devtmpfs devtmpfs $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $r/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $r/dev/shm
# what udev would add: bash's <(...) needs /dev/fd
ln -sf /proc/self/fd $r/dev/fd
ln -sf /proc/self/fd/0 $r/dev/stdin
ln -sf /proc/self/fd/1 $r/dev/stdout
ln -sf /proc/self/fd/2 $r/dev/stderr
[ -e $r/dev/ptmx ] || ln -sf pts/ptmx $r/dev/ptmx
mount -t tmpfs -o mode=755 tmpfs $r/run
# cgroup v1 hierarchies as on the host (the pids limit test wants /sys/fs/cgroup/pids)
if mount -t tmpfs -o mode=755 cgroup $r/sys/fs/cgroup 2>/dev/null; then
  for c in pids memory cpu cpuacct; do
    mkdir -p $r/sys/fs/cgroup/$c
    mount -t cgroup -o $c cgroup $r/sys/fs/cgroup/$c 2>/dev/null || rmdir $r/sys/fs/cgroup/$c
  done
fi
# The snapshot of the tree: an ext4 image on the first virtio disk, mounted where it is on the host
mkdir -p "$r$tree"
mount -t ext4 /dev/vda "$r$tree" || die "cannot mount the tree's image (/dev/vda) at $tree"
mkdir -p "$r$results"
mount -t 9p -o "$opts,rw,cache=none" results "$r$results" || die "cannot mount the results share (tag results)"

ip link set lo up || say "could not bring lo up"
hostname uring-probe-guest

say "root mounted; running $tree/scripts/kernels/guest-run.sh"
chroot $r /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  TERM=dumb LANG=C.UTF-8 /bin/bash "$tree/scripts/kernels/guest-run.sh" "$tree" "$results"
rc=$?
echo "$rc" > "$r$results/guest.rc"
say "guest-run.sh exited $rc; powering off"
sync
umount "$r$results" 2>/dev/null
off
