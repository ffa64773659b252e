#!/bin/sh
# replace_file.sh SOURCE DEST: installs SOURCE as DEST (mode 755) by writing
# a new file beside it and renaming it over DEST. `install` overwrites the
# library in place, and a running server that has it mapped then executes
# the new file's bytes at old offsets: its processes crash (SIGSEGV), and
# PostgreSQL restarts the cluster. After a rename they keep the old file
# until they exit; new processes load the new one.
set -eu
source=$1
dest=$2
tmp="$dest.new.$$"
trap 'rm -f "$tmp"' EXIT
install -c -m 755 "$source" "$tmp"
mv -f "$tmp" "$dest"
trap - EXIT
