#!/bin/sh
# Entrypoint of the code location's image, for the webserver, the daemon and each run's task: writes the
# Dagster instance configuration the task definition passes in DAGSTER_INSTANCE_CONFIG (rendered by
# `wildrydes deploy --aws --with-dagster` from the Dagster stack's outputs) to $DAGSTER_HOME/dagster.yaml,
# then runs the command. Without it, a dagster.yaml must already be there (e.g. mounted for a local try).
set -eu
: "${DAGSTER_HOME:?DAGSTER_HOME is not set}"
config="$DAGSTER_HOME/dagster.yaml"
if [ -n "${DAGSTER_INSTANCE_CONFIG:-}" ]; then
    mkdir -p "$DAGSTER_HOME"
    umask 077
    printf '%s\n' "$DAGSTER_INSTANCE_CONFIG" > "$config.tmp"
    mv "$config.tmp" "$config"
elif [ ! -f "$config" ]; then
    echo "dagster-entrypoint: DAGSTER_INSTANCE_CONFIG is empty and $config does not exist: deploy with" \
         "\`wildrydes deploy --aws --with-dagster\` (docs/dagster-on-aws.md), or mount a dagster.yaml" >&2
    exit 64
fi
exec "$@"
