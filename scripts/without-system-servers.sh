#!/usr/bin/env bash
# Run a command as on a machine without PostgreSQL and Redis: their commands are off the PATH and
# nothing answers where the tests and the app look for them (TEST_POSTGRES_URL, TEST_REDIS_URL,
# DATABASE_URL, REDIS_URL point at a port where nothing listens). Servers running here are left
# alone (others may use them); only the command's view changes. CI uses it to prove that
# `make test` falls back to the embedded servers: scripts/without-system-servers.sh make test
set -euo pipefail

hidden=" pg_ctlcluster pg_ctl pg_isready postgres postmaster initdb psql redis-server redis-cli "

# A folder of links to every command on the PATH but the hidden ones becomes the whole PATH.
commands=$(mktemp -d)
trap 'rm -rf "$commands"' EXIT
IFS=: read -ra folders <<<"$PATH"
for folder in "${folders[@]}"; do
  links=()
  for command in "$folder"/*; do
    name=${command##*/}
    if [[ -x $command && ! -d $command && $hidden != *" $name "* && ! -e $commands/$name ]]; then
      links+=("$command")
    fi
  done
  if ((${#links[@]})); then ln -s -- "${links[@]}" "$commands/"; fi
done

nothing_answers() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=1
until nothing_answers "$port"; do port=$((port + 1)); done

status=0
PATH=$commands \
  TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port" \
  TEST_REDIS_URL="redis://127.0.0.1:$port/15" \
  DATABASE_URL="postgresql://postgres@127.0.0.1:$port/relivchats" \
  REDIS_URL="redis://127.0.0.1:$port/0" \
  "$@" || status=$?
exit "$status"
