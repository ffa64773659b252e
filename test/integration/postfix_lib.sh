# shellcheck shell=bash
# A private Postfix instance whose files all live in one state directory DIR;
# sourced by test/integration/servers.sh (the SQL network suite's Postfix),
# test/bench/postfix_bulk_bench.sh and test/soak/soak.sh:
#
#   DIR/postfix/etc     config_directory: main.cf, master.cf, the maps
#   DIR/postfix/spool   queue_directory (the master's pid in pid/master.pid)
#   DIR/postfix/data    data_directory, owned by mail_owner (postfix)
#   DIR/postfix.log     maillog_file (postlogd in master.cf)
#
#   postfix_dirs DIR                      the folders and the log, with the owners Postfix wants
#   postfix_write_master DIR IP           master.cf: the suite's services
#                                         (postfix/master.cf), smtpd on IP:25
#   postfix_write_main DIR IP MX_HOST SYSLOG_NAME WHO IN_FLOW_DELAY
#                                         main.cf of a benchmark's or the soak's
#                                         instance (see there)
#   postfix_maps DIR FILE...              copies the maps into etc/, builds vmailbox's hash
#   postfix_check DIR                     "postfix check"; prints what it says, non-zero on failure
#   postfix_start DIR                     "postfix start"; on failure prints its output
#                                         and the log's tail, non-zero
#   postfix_master_pid DIR                the master's pid, from its pid file
#   postfix_pid_is_ours DIR PID           PID is a live master of this instance
#   postfix_stop DIR [TENTHS]             "postfix stop", then waits TENTHS (50) tenths
#                                         of a second for the master, then SIGKILL
#
# Run as root. Only a master whose environment names DIR's config directory
# is ever signalled.
POSTFIX_LIB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

postfix_conf() { echo "$1/postfix/etc"; }

postfix_dirs() {
  local dir=$1
  mkdir -p "$dir/postfix/etc" "$dir/postfix/spool" "$dir/postfix/data"
  # Postfix wants the queue dir owned by root, the data dir by mail_owner.
  chown postfix: "$dir/postfix/data"
  chmod 700 "$dir/postfix/data"
  # The log belongs to mail_owner: postsuper, run by "postfix start" with
  # postfix's rights, logs straight to it while postlogd is down, and after
  # a stop that cut a session short it has a warning to log (a leftover
  # incoming/ file); a log it cannot open fails the start ("Postfix
  # integrity check failed!").
  install -o postfix -g postfix -m 644 /dev/null "$dir/postfix.log"
}

# The suite's services, nothing chrooted, smtpd on IP:25 only.
postfix_write_master() {
  sed -e "s|^127\.0\.0\.25:smtp |$2:smtp |" "$POSTFIX_LIB_HERE/postfix/master.cf" >"$(postfix_conf "$1")/master.cf"
}

# The suite's Postfix (postfix/main.cf.in) on another address, with the
# domains of vdomains and the mailboxes of vmailbox (postfix_maps), and
# Postfix's defaults elsewhere (unlike the suite's, which also sets its
# restrictions). WHO names the instance in the transports' refusals
# ("the WHO delivers no mail"); IN_FLOW_DELAY is the one setting that is not
# a default for reasons of the test environment's own (see below).
postfix_write_main() {
  local dir=$1 ip=$2 mx_host=$3 syslog_name=$4 who=$5 in_flow_delay=$6
  local conf
  conf=$(postfix_conf "$dir")
  cat >"$conf/main.cf" <<EOF
# Written by test/integration/postfix_lib.sh; from test/integration/postfix/main.cf.in.
compatibility_level = 3.6
config_directory = $conf
queue_directory = $dir/postfix/spool
data_directory = $dir/postfix/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $dir/postfix.log
maillog_file_prefixes = $dir
syslog_name = $syslog_name

# master.cf binds $ip:25 explicitly (loopback only).
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = $mx_host
mydomain = ${mx_host#mx.}
myorigin = \$myhostname
mydestination =
relay_domains =
# Only the server itself: the probing clients (127.0.0.1) are outside clients,
# as a verifier is for a real mail server, so anvil's per-client limits
# (smtpd_client_event_limit_exceptions defaults to \$mynetworks) apply to them.
mynetworks = $ip/32

# Forced by the test environment: no DNS from this instance (no reverse lookup
# of clients through the machine's resolver, no MX lookups).
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtp_host_lookup = native
# Nothing leaves this instance and nothing is kept (probes never send DATA).
default_transport = error:the $who delivers no mail
relay_transport = error:the $who delivers no mail
local_transport = error:the $who delivers no mail
virtual_transport = discard:the $who keeps no mail
notify_classes =
biff = no
alias_maps =
alias_database =
# No certificate: STARTTLS is not offered (neither client would use it here).
smtpd_tls_security_level = none
smtp_tls_security_level = none

# The mailboxes: unknown recipients of these domains get
# "550 5.1.1 <...>: Recipient address rejected: User unknown in virtual
# mailbox table" at RCPT time (smtpd_reject_unlisted_recipient = yes and
# unknown_virtual_mailbox_reject_code = 550 are the defaults).
virtual_mailbox_domains = $conf/vdomains
virtual_mailbox_maps = hash:$conf/vmailbox

# NOT a default (default 1s): Postfix pauses in_flow_delay before a new
# transaction when no flow-control token is left. qmgr refills the tokens only
# when it wakes up to deliver mail; probes never queue a message, so after the
# first 100 transactions (default_process_limit tokens) every MAIL FROM would
# wait a second: a run would measure this idle instance's flow control, not
# the probing. A real server that delivers mail keeps refilling them.
in_flow_delay = $in_flow_delay
EOF
}

postfix_maps() {
  local conf
  conf=$(postfix_conf "$1")
  shift
  cp "$@" "$conf/"
  postmap -c "$conf" "hash:$conf/vmailbox"
}

# "check" also creates the queue's subdirectories with the owners Postfix wants.
postfix_check() {
  local output status=0
  output=$(postfix -c "$(postfix_conf "$1")" check 2>&1) || status=$?
  [[ -z $output ]] || echo "postfix check: $output"
  return "$status"
}

postfix_start() {
  local output
  output=$(postfix -c "$(postfix_conf "$1")" start 2>&1) || {
    echo "$output"
    tail -n 20 "$1/postfix.log" 2>/dev/null
    return 1
  }
}

postfix_master_pid() {
  local file=$1/postfix/spool/pid/master.pid
  [[ -f $file ]] && tr -d ' \n' <"$file"
}

# A zombie (exited, not yet reaped) counts as gone.
postfix_pid_alive() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] && stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# Only a master whose environment names this instance's config directory.
postfix_pid_is_ours() {
  postfix_pid_alive "$2" &&
    tr '\0' '\n' <"/proc/$2/environ" 2>/dev/null | grep -qxF "MAIL_CONFIG=$(postfix_conf "$1")"
}

postfix_stop() {
  local dir=$1 tenths=${2:-50} pid i
  pid=$(postfix_master_pid "$dir" || true)
  postfix_pid_is_ours "$dir" "$pid" || return 0
  postfix -c "$(postfix_conf "$dir")" stop >/dev/null 2>&1 || true
  # "postfix stop" does not wait; the master takes its children with it.
  for ((i = 0; i < tenths; i++)); do
    postfix_pid_alive "$pid" || return 0
    sleep 0.1
  done
  if postfix_pid_is_ours "$dir" "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
}
