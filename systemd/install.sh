#!/usr/bin/env bash
# Install adaos-edge as a systemd service from a packaged binary (no .deb needed).
#
#   install.sh --binary PATH [--role hub|member] [--hub URL] [--node-id ID] [--root DIR] [--no-enable]
#   install.sh --uninstall [--purge] [--root DIR]
#   install.sh --print-config [--role hub|member] [--hub URL] [--node-id ID]
#
# Lays out (under --root, default /):
#   /usr/bin/adaos-edge                       the binary (0755)
#   /lib/systemd/system/adaos-edge.service    the unit (0644)
#   /etc/adaos-edge/agent.yaml                starter config for the role, only if absent (0640 root:adaos-edge)
#   /etc/adaos-edge/adaos-edge.env            environment file from adaos-edge.env.example, only if absent (0640)
#   /var/lib/adaos-edge                       state (0750 adaos-edge:adaos-edge)
# creates the system user adaos-edge (groups audio, video when they exist), and enables and
# starts the service when installing into / on a machine where systemd is running.
# Running it again changes nothing that is already right, and never overwrites the config.
#
# --root DIR installs into another tree (a mounted SD-card image, a test root). The user is
# created there with `useradd --prefix DIR` when DIR/etc/passwd and DIR/etc/group exist;
# otherwise no user is created and the files stay owned by root (the script says so).
set -euo pipefail

readonly NAME=adaos-edge
readonly SVC_USER=adaos-edge
readonly UNIT="$NAME.service"
readonly NODE_ID_RE='^[a-z0-9][a-z0-9_-]{0,62}$'
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

say() { printf '%s: %s\n' "$NAME" "$*"; }
warn() { printf '%s: warning: %s\n' "$NAME" "$*" >&2; }
die() { printf '%s: error: %s\n' "$NAME" "$*" >&2; exit 1; }

usage() {
  cat <<EOF
usage: install.sh --binary PATH [--role hub|member] [--hub URL] [--node-id ID] [--root DIR] [--no-enable]
       install.sh --uninstall [--purge] [--root DIR]
       install.sh --print-config [--role hub|member] [--hub URL] [--node-id ID]

  --binary PATH   the packaged executable (dist/adaos-edge-linux-x64 or -arm64)
  --role ROLE     hub (default) or member; only used for a new agent.yaml
  --hub URL       the hub a member joins: nats://H:4222,mqtt://H:1883, or just a host name
                  (implies --role member; written as a hint into a new agent.yaml)
  --node-id ID    stable node id (lower-case letters, digits, '-', '_'); default: the host name
  --root DIR      install into DIR instead of / (an image or a test root); systemd is not touched
  --no-enable     do not enable or start the service
  --uninstall     stop, disable and remove the binary and the unit; keeps config and state
  --purge         with --uninstall: also remove /etc/adaos-edge, /var/lib/adaos-edge,
                  /var/cache/adaos-edge and the adaos-edge user
  --print-config  print the starter agent.yaml for the role and exit
EOF
}

# --- arguments -------------------------------------------------------------------------------
mode=install binary="" role="" role_given=0 hub="" node_id="" root="/" enable=1 purge=0
need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary) need_value "$@"; binary="$2"; shift 2 ;;
    --role) need_value "$@"; role="$2"; role_given=1; shift 2 ;;
    --hub) need_value "$@"; hub="$2"; shift 2 ;;
    --node-id) need_value "$@"; node_id="$2"; shift 2 ;;
    --root) need_value "$@"; root="$2"; shift 2 ;;
    --no-enable) enable=0; shift ;;
    --uninstall) mode=uninstall; shift ;;
    --purge) purge=1; shift ;;
    --print-config) mode=print-config; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

if [[ -n "$hub" && -z "$role" ]]; then role=member; fi
[[ -n "$role" ]] || role=hub
case "$role" in hub | member) ;; *) die "--role must be hub or member, not '$role'" ;; esac
[[ -z "$hub" || "$role" == member ]] || die "--hub is for a member (--role member)"
[[ -z "$node_id" || "$node_id" =~ $NODE_ID_RE ]] ||
  die "--node-id '$node_id' is not a valid id (lower-case letters, digits, '-' and '_', at most 63)"
# A bare host name means the hub's default ports on both transports.
if [[ -n "$hub" && "$hub" != *://* ]]; then hub="nats://$hub:4222,mqtt://$hub:1883"; fi
[[ "$hub" =~ ^[[:alnum:][:punct:]]*$ ]] || die "--hub '$hub' contains spaces or control characters"
[[ $purge -eq 0 || "$mode" == uninstall ]] || die "--purge only goes with --uninstall"

# --- the starter config ----------------------------------------------------------------------
# Only keys of agent/config/schema.json (it allows no others); `config check` verifies it.
starter_config() {
  local port host host_note id_line
  if [[ "$role" == hub ]]; then
    port=8777 host=0.0.0.0 host_note="members and the dashboard reach the hub over the subnet; the token guards it"
  else
    port=8778 host=127.0.0.1 host_note="local only; set 0.0.0.0 to reach this member's API from the subnet"
  fi
  if [[ -n "$node_id" ]]; then id_line="node_id: \"$node_id\""; else id_line="node_id: null"; fi
  cat <<EOF
# /etc/adaos-edge/agent.yaml: configuration of this adaos-edge node (starter for a $role).
# Check it with:   adaos-edge config check --config /etc/adaos-edge/agent.yaml --print
# Apply changes:   systemctl restart adaos-edge
# Every key can be overridden by ADAOS_EDGE_<KEY> in /etc/adaos-edge/adaos-edge.env (e.g.
# ADAOS_EDGE_LOG_LEVEL=debug). Keep the subnet token there (ADAOS_EDGE_TOKEN), not in this file:
# the same token on the hub and on every member.

# hub: the centre of a home subnet (brokers, directory, resolver); member: joins a hub.
role: $role
EOF
  if [[ "$role" == member ]]; then
    cat <<EOF
# The hub this member joins. The 'hub' key is not in the config schema yet; until it is, the
# address is given with 'adaos-edge run --hub …' (systemctl edit adaos-edge). Uncomment it then.
# hub: ${hub:-nats://HUB-HOST:4222,mqtt://HUB-HOST:1883}
EOF
  fi
  cat <<EOF

# Stable id of this node in the subnet (lower-case letters, digits, '-', '_'); null: the host name.
$id_line

# State (SQLite files, the generated api.token). The service runs with
# ADAOS_EDGE_DATA_DIR=/var/lib/adaos-edge, its StateDirectory, the only place it may write.
data_dir: /var/lib/adaos-edge

tenant: default

api:
  # $host_note
  host: $host
  port: $port

log:
  # fatal, error, warn, info, debug, trace, silent (NDJSON on stdout: journalctl -u adaos-edge -o cat)
  level: info

# On SIGTERM the agent stops its components within this many ms (the unit allows 8 s).
shutdown_timeout_ms: 5000
EOF
}

if [[ "$mode" == print-config ]]; then
  starter_config
  exit 0
fi

# --- paths and helpers -----------------------------------------------------------------------
[[ -d "$root" ]] || die "--root $root is not a directory"
root="$(cd "$root" && pwd -P)"
# P prefixes every target path: "" for the live system, "/mnt/img" for another tree.
if [[ "$root" == / ]]; then P=""; else P="$root"; fi
live=0
[[ -z "$P" ]] && live=1
systemd_running=0
[[ $live -eq 1 && -d /run/systemd/system ]] && systemd_running=1
is_root=0
[[ "$(id -u)" -eq 0 ]] && is_root=1

bin_path="$P/usr/bin/$NAME"
unit_path="$P/lib/systemd/system/$UNIT"
conf_dir="$P/etc/$NAME"
conf_file="$conf_dir/agent.yaml"
env_file="$conf_dir/$NAME.env"
state_dir="$P/var/lib/$NAME"
cache_dir="$P/var/cache/$NAME"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/adaos-edge-install.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

# users: getent on the live system (NSS), the tree's own files otherwise; prefix args for *add/*del.
users_mode=none
if [[ $live -eq 1 ]]; then
  users_mode=live
elif [[ -f "$P/etc/passwd" && -f "$P/etc/group" ]]; then
  users_mode=prefix
fi
user_tool_args=()
[[ "$users_mode" == prefix ]] && user_tool_args=(--prefix "$P")

lookup() { # lookup passwd|group NAME → prints "name:x:id:..." or fails
  if [[ "$users_mode" == live ]]; then getent "$1" "$2"; else grep -E "^$2:" "$P/etc/$1"; fi
}
have_group() { [[ "$users_mode" != none ]] && lookup group "$1" >/dev/null 2>&1; }
have_user() { [[ "$users_mode" != none ]] && lookup passwd "$1" >/dev/null 2>&1; }
uid_of() { lookup passwd "$1" | cut -d: -f3; }
gid_of() { lookup group "$1" | cut -d: -f3; }

# Set mode (and owner uid:gid when we can) on PATH, saying so only when something changed.
ensure_meta() { # PATH MODE [UID GID]
  local path="$1" want_mode="$2" uid="${3:-}" gid="${4:-}" cur
  cur="$(stat -c '%a' "$path")"
  if [[ "$cur" != "${want_mode#0}" ]]; then
    chmod "$want_mode" "$path"
    say "  mode of ${path#"$P"} set to $want_mode"
  fi
  if [[ -n "$uid" && $is_root -eq 1 ]]; then
    cur="$(stat -c '%u:%g' "$path")"
    if [[ "$cur" != "$uid:$gid" ]]; then
      chown "$uid:$gid" "$path"
      say "  owner of ${path#"$P"} set to $uid:$gid"
    fi
  fi
}

# Install SRC as DEST with MODE unless DEST already has the same bytes. Sets $changed.
changed=0
put_file() { # SRC DEST MODE LABEL
  local src="$1" dest="$2" mode="$3" label="$4"
  if [[ -f "$dest" ]] && cmp -s "$src" "$dest"; then
    say "$label ${dest#"$P"}: unchanged"
  else
    local verb=installed
    [[ -e "$dest" ]] && verb=updated
    # Copy beside the target and rename: a running binary is replaced, never overwritten in place.
    install -m "$mode" "$src" "$dest.new.$$"
    mv -f "$dest.new.$$" "$dest"
    say "$label ${dest#"$P"}: $verb"
    changed=1
  fi
  ensure_meta "$dest" "$mode"
}

ensure_dir() { # PATH MODE [UID GID]
  if [[ ! -d "$1" ]]; then
    install -d -m "$2" "$1"
    say "directory ${1#"$P"}: created"
  fi
  ensure_meta "$@"
}

# Runs the binary with a clean environment and a throw-away cache for its native addon.
run_binary() { # BINARY ARGS...
  local b="$1"
  shift
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$scratch" PKG_NATIVE_CACHE_PATH="$scratch/pkg-cache" "$b" "$@"
}

# --- uninstall -------------------------------------------------------------------------------
if [[ "$mode" == uninstall ]]; then
  [[ $live -eq 0 || $is_root -eq 1 ]] || die "run as root (sudo) to uninstall from /"
  say "uninstalling from $root"
  if [[ $systemd_running -eq 1 ]]; then
    if systemctl cat "$UNIT" >/dev/null 2>&1; then
      say "stopping and disabling $UNIT"
      systemctl disable --now "$UNIT" || warn "systemctl disable --now $UNIT failed"
    fi
  else
    # Enable symlinks made offline (systemctl --root … enable) would dangle once the unit is gone.
    for link in "$P"/etc/systemd/system/*.wants/"$UNIT"; do
      [[ -L "$link" ]] || continue
      rm -f "$link"
      say "removed ${link#"$P"}"
    done
  fi
  for f in "$bin_path" "$unit_path"; do
    if [[ -e "$f" ]]; then
      rm -f "$f"
      say "removed ${f#"$P"}"
    else
      say "${f#"$P"}: not present"
    fi
  done
  [[ $systemd_running -eq 1 ]] && systemctl daemon-reload
  if [[ $purge -eq 1 ]]; then
    for d in "$conf_dir" "$state_dir" "$cache_dir"; do
      if [[ -e "$d" ]]; then
        rm -rf "$d"
        say "purged ${d#"$P"}"
      fi
    done
    if have_user "$SVC_USER"; then
      userdel "${user_tool_args[@]}" "$SVC_USER"
      say "removed user $SVC_USER"
    fi
    if have_group "$SVC_USER"; then
      groupdel "${user_tool_args[@]}" "$SVC_USER"
      say "removed group $SVC_USER"
    fi
  else
    say "kept ${conf_dir#"$P"} and ${state_dir#"$P"} (remove them with --uninstall --purge)"
  fi
  say "uninstalled"
  exit 0
fi

# --- install: checks first, so a bad input changes nothing ------------------------------------
[[ -n "$binary" ]] || { usage >&2; die "--binary PATH is required"; }
[[ -f "$binary" ]] || die "binary $binary not found (build it with: npm run package)"
[[ $live -eq 0 || $is_root -eq 1 ]] || die "run as root (sudo) to install into /"
for f in "$here/$UNIT" "$here/$NAME.env.example"; do
  [[ -f "$f" ]] || die "$f is missing: run install.sh from the systemd/ folder of adaos-edge"
done
if [[ $live -eq 1 ]] && command -v dpkg-query >/dev/null 2>&1 &&
  [[ "$(dpkg-query -W -f='${Status}' "$NAME" 2>/dev/null || true)" == "install ok installed" ]]; then
  die "adaos-edge is installed as a Debian package here; upgrade it with apt/dpkg instead"
fi

say "installing into $root"
can_run=0
if version="$(run_binary "$binary" version 2>/dev/null)"; then
  can_run=1
  say "binary $binary: $version"
else
  say "binary $binary does not run on this machine ($(uname -m)); skipping the config check"
fi

# The config to install (new) or to keep (present), checked with the binary before anything is
# written: an install never leaves a service that would fail on its config.
config_src=""
if [[ -f "$conf_file" ]]; then
  config_checked="$conf_file"
  kept_role="$(sed -n 's/^role:[[:space:]]*\([a-z]*\).*/\1/p' "$conf_file" | head -n 1)"
  if [[ ($role_given -eq 1 || -n "$hub" || -n "$node_id") && "${kept_role:-hub}" != "$role" ]]; then
    warn "${conf_file#"$P"} exists (role ${kept_role:-hub}) and is kept; --role/--hub/--node-id only shape a new config"
  elif [[ -n "$hub$node_id" ]]; then
    warn "${conf_file#"$P"} exists and is kept; --hub/--node-id only shape a new config"
  fi
else
  config_src="$scratch/agent.yaml"
  starter_config >"$config_src"
  config_checked="$config_src"
fi
if [[ $can_run -eq 1 ]]; then
  if ! out="$(run_binary "$binary" config check --config "$config_checked" 2>&1)"; then
    printf '%s\n' "$out" >&2
    if [[ -n "$config_src" ]]; then die "the starter config does not pass 'config check' (a bug in install.sh)"; fi
    die "${conf_file#"$P"} does not pass 'config check' (problems above); fix it and run install.sh again"
  fi
  last="${out##*$'\n'}"
  say "config check: ${last/"$config_checked"/${conf_file#"$P"}}"
fi

# --- user and group --------------------------------------------------------------------------
uid="" gid=""
case "$users_mode" in
  none)
    say "no ${P}/etc/passwd: not creating user $SVC_USER; files stay owned by root." \
      "Create it in the target system: useradd --system --user-group --home-dir /var/lib/$NAME --no-create-home --shell /usr/sbin/nologin $SVC_USER"
    ;;
  *)
    [[ $is_root -eq 1 ]] || die "run as root to create user $SVC_USER in $root (or install into a tree without etc/passwd)"
    if have_group "$SVC_USER"; then
      say "group $SVC_USER: exists"
    else
      groupadd "${user_tool_args[@]}" --system "$SVC_USER"
      say "group $SVC_USER: created"
    fi
    if have_user "$SVC_USER"; then
      say "user $SVC_USER: exists"
    else
      useradd "${user_tool_args[@]}" --system --gid "$SVC_USER" --home-dir "/var/lib/$NAME" --no-create-home \
        --shell /usr/sbin/nologin --comment "AdaOS edge agent" "$SVC_USER"
      say "user $SVC_USER: created"
    fi
    # Sound and display devices belong to these groups (the unit adds them as well).
    for g in audio video; do
      if ! have_group "$g"; then
        say "group $g does not exist here; $SVC_USER not added"
      elif ! lookup group "$g" | cut -d: -f4 | tr ',' '\n' | grep -qx "$SVC_USER"; then
        usermod "${user_tool_args[@]}" --append --groups "$g" "$SVC_USER"
        say "user $SVC_USER: added to group $g"
      fi
    done
    uid="$(uid_of "$SVC_USER")"
    gid="$(gid_of "$SVC_USER")"
    ;;
esac

# --- files -----------------------------------------------------------------------------------
ensure_dir "$P/usr/bin" 0755
ensure_dir "$P/lib/systemd/system" 0755
ensure_dir "$conf_dir" 0755 0 0
ensure_dir "$state_dir" 0750 "$uid" "$gid"

put_file "$binary" "$bin_path" 0755 "binary"
binary_changed=$changed
changed=0
put_file "$here/$UNIT" "$unit_path" 0644 "unit"
unit_changed=$changed

# Config and environment are the user's: written once, then only their owner/mode is kept right.
if [[ -n "$config_src" ]]; then
  install -m 0640 "$config_src" "$conf_file"
  say "config ${conf_file#"$P"}: written (starter for a $role)"
else
  say "config ${conf_file#"$P"}: kept (exists)"
fi
ensure_meta "$conf_file" 0640 0 "${gid:-0}"
if [[ -f "$env_file" ]]; then
  say "environment ${env_file#"$P"}: kept (exists)"
else
  install -m 0640 "$here/$NAME.env.example" "$env_file"
  say "environment ${env_file#"$P"}: written from $NAME.env.example (all commented out)"
fi
ensure_meta "$env_file" 0640 0 "${gid:-0}"

# --- systemd ---------------------------------------------------------------------------------
if [[ $systemd_running -eq 1 ]]; then
  [[ $unit_changed -eq 1 ]] && systemctl daemon-reload
  if [[ $enable -eq 0 ]]; then
    say "not enabled (--no-enable); start it with: systemctl enable --now $UNIT"
  else
    if systemctl is-enabled --quiet "$UNIT"; then
      say "service: enabled already"
    else
      systemctl enable "$UNIT"
      say "service: enabled (starts at boot)"
    fi
    if ! systemctl is-active --quiet "$UNIT"; then
      systemctl start "$UNIT"
      say "service: started"
    elif [[ $binary_changed -eq 1 || $unit_changed -eq 1 ]]; then
      systemctl restart "$UNIT"
      say "service: restarted (new binary or unit)"
    else
      say "service: running"
    fi
    say "status: systemctl status $UNIT; logs: journalctl -u $NAME -o cat; ready: curl -s http://127.0.0.1:$([[ "$role" == hub ]] && echo 8777 || echo 8778)/health/ready"
  fi
elif [[ $live -eq 1 ]]; then
  say "systemd is not running here; once it is: systemctl daemon-reload && systemctl enable --now $UNIT"
else
  say "installed into $root; systemd was not touched. In the booted system run:" \
    "systemctl daemon-reload && systemctl enable --now $UNIT" \
    "(or now, offline: systemctl --root=$root enable $UNIT)"
fi
if ! grep -qE '^[[:space:]]*ADAOS_EDGE_TOKEN=' "$env_file" 2>/dev/null; then
  say "next: set ADAOS_EDGE_TOKEN in /etc/$NAME/$NAME.env (the same on the hub and every member)"
fi
say "done"
