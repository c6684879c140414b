#!/bin/sh
# Writes the index page, then serves it in the foreground (the container's main process).
mkdir -p /www /tmp
echo "hello from $(hostname) (instance ${GANTRY_INSTANCE:-unknown})" > /www/index.html
echo "hello: serving $(hostname) on :8080"
# -v logs every request to stderr, so `gantry logs` has something to show.
exec httpd -f -v -p 8080 -h /www
